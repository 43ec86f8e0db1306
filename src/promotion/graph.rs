//! The commit graph as plain data, and the questions promotion asks of it:
//! what is pending (reachable from one tip and not another), where two branches
//! meet. Generic over the commit id so it is tested with small integers.

use std::cell::RefCell;
use std::hash::Hash;
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

/// A commit's parents and commit time (seconds since the epoch).
#[derive(Debug, Clone)]
pub struct Node<K> {
    pub parents: Vec<K>,
    pub time: i64,
}

/// Every commit reachable from the tips that were loaded.
#[derive(Debug, Clone)]
pub struct Graph<K> {
    pub nodes: HashMap<K, Node<K>>,
    /// Ancestor sets already computed, by tip: status asks for the same few
    /// branches' ancestors several times.
    memo: RefCell<HashMap<K, Arc<HashSet<K>>>>,
    /// Merge bases already found, by pair.
    bases: RefCell<HashMap<(K, K), Option<K>>>,
}

impl<K: Copy + Eq + Hash + Ord> Graph<K> {
    pub fn new() -> Self {
        Graph {
            nodes: HashMap::new(),
            memo: RefCell::new(HashMap::new()),
            bases: RefCell::new(HashMap::new()),
        }
    }

    pub fn insert(&mut self, id: K, parents: Vec<K>, time: i64) {
        self.nodes.insert(id, Node { parents, time });
        self.memo.get_mut().clear();
        self.bases.get_mut().clear();
    }

    /// `tip` and everything reachable from it.
    pub fn ancestors(&self, tip: K) -> Arc<HashSet<K>> {
        if let Some(set) = self.memo.borrow().get(&tip) {
            return set.clone();
        }
        let set = Arc::new(self.walk(tip));
        self.memo.borrow_mut().insert(tip, set.clone());
        set
    }

    fn walk(&self, tip: K) -> HashSet<K> {
        let mut seen = HashSet::new();
        let mut stack = vec![tip];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(node) = self.nodes.get(&id) {
                stack.extend(node.parents.iter().copied().filter(|p| !seen.contains(p)));
            }
        }
        seen
    }

    /// Commits reachable from `include` and not from `exclude` (`git rev-list
    /// exclude..include`), newest first (commit time, then id for a stable order).
    pub fn only_in(&self, include: K, exclude: K) -> Vec<K> {
        let hidden = self.ancestors(exclude);
        let mut out: Vec<K> = self
            .ancestors(include)
            .iter()
            .filter(|id| !hidden.contains(id))
            .copied()
            .collect();
        out.sort_by(|a, b| {
            let ta = self.nodes.get(a).map_or(0, |n| n.time);
            let tb = self.nodes.get(b).map_or(0, |n| n.time);
            tb.cmp(&ta).then(b.cmp(a))
        });
        out
    }

    /// Whether `ancestor` is reachable from `descendant`.
    pub fn is_ancestor(&self, ancestor: K, descendant: K) -> bool {
        self.ancestors(descendant).contains(&ancestor)
    }

    /// A best common ancestor of `a` and `b`: a common ancestor that is not an
    /// ancestor of another common ancestor. Picked by generation number (the
    /// longest path from a root), which no ancestor of it can equal or exceed.
    pub fn merge_base(&self, a: K, b: K) -> Option<K> {
        if let Some(base) = self.bases.borrow().get(&(a, b)) {
            return *base;
        }
        let base = self.find_merge_base(a, b);
        self.bases.borrow_mut().insert((a, b), base);
        base
    }

    fn find_merge_base(&self, a: K, b: K) -> Option<K> {
        let of_a = self.ancestors(a);
        let common: Vec<K> = self
            .ancestors(b)
            .iter()
            .filter(|id| of_a.contains(id))
            .copied()
            .collect();
        let generations = self.generations(&common);
        common
            .into_iter()
            .max_by_key(|id| (generations.get(id).copied().unwrap_or(0), *id))
    }

    /// Generation numbers of `ids` and their ancestors (roots are 1).
    fn generations(&self, ids: &[K]) -> HashMap<K, u64> {
        let mut gen: HashMap<K, u64> = HashMap::new();
        for &start in ids {
            let mut stack = vec![(start, false)];
            while let Some((id, expanded)) = stack.pop() {
                if gen.contains_key(&id) {
                    continue;
                }
                let parents = self
                    .nodes
                    .get(&id)
                    .map(|n| n.parents.as_slice())
                    .unwrap_or(&[]);
                if expanded {
                    let g = parents
                        .iter()
                        .filter_map(|p| gen.get(p))
                        .max()
                        .copied()
                        .unwrap_or(0)
                        + 1;
                    gen.insert(id, g);
                } else {
                    stack.push((id, true));
                    stack.extend(
                        parents
                            .iter()
                            .filter(|p| !gen.contains_key(p))
                            .map(|p| (*p, false)),
                    );
                }
            }
        }
        gen
    }
}

impl<K: Copy + Eq + Hash + Ord> Default for Graph<K> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    ///   1 - 2 - 3 - 4          dev
    ///        \       \
    ///         5 - 6 - 7        stage (7 merges 4)
    ///              \
    ///               8          prod
    fn sample() -> Graph<u32> {
        let mut g = Graph::new();
        for (id, parents, time) in [
            (1, vec![], 1),
            (2, vec![1], 2),
            (3, vec![2], 3),
            (4, vec![3], 4),
            (5, vec![2], 5),
            (6, vec![5], 6),
            (7, vec![6, 4], 7),
            (8, vec![6], 8),
        ] {
            g.insert(id, parents, time);
        }
        g
    }

    #[test]
    fn only_in_is_rev_list_exclude_dot_dot_include() {
        let g = sample();
        let cases: &[(u32, u32, &[u32])] = &[
            (4, 6, &[4, 3]),
            (6, 4, &[6, 5]),
            (4, 7, &[]),
            (7, 4, &[7, 6, 5]),
            (7, 8, &[7, 4, 3]),
            (8, 7, &[8]),
            (1, 1, &[]),
        ];
        for (include, exclude, want) in cases {
            assert_eq!(g.only_in(*include, *exclude), *want, "{exclude}..{include}");
        }
    }

    #[test]
    fn merge_base_is_the_nearest_common_ancestor() {
        let g = sample();
        let cases = [
            ((4, 6), Some(2)),
            ((4, 7), Some(4)),
            ((7, 8), Some(6)),
            ((3, 3), Some(3)),
        ];
        for ((a, b), want) in cases {
            assert_eq!(g.merge_base(a, b), want, "{a} {b}");
            assert_eq!(g.merge_base(b, a), want, "{b} {a}");
        }
    }

    #[test]
    fn unrelated_histories_have_no_merge_base() {
        let mut g = sample();
        g.insert(100, vec![], 0);
        assert_eq!(g.merge_base(100, 4), None);
        assert!(g.is_ancestor(2, 7) && !g.is_ancestor(8, 7));
    }
}
