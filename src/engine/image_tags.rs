//! The registry's side of `image tags` and `image update`: an image's tags
//! listed in its registry, the creation times of the `commit-sha` candidates
//! read, and [`crate::config::newest::decide`]'s verdict for each environment.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::config::newest::{self, Choice};
use crate::config::policy::TagPolicy;
use crate::registry::{self, Registry};
use crate::ui::Ui;

/// The registry's tags ordered and judged for several environments at once.
pub struct Decided {
    /// The tags, newest first.
    pub ordered: Vec<String>,
    /// The creation times read.
    pub created: BTreeMap<String, registry::Created>,
    /// What each (policy, running tags) given would take, in their order.
    pub choices: Vec<Choice>,
}

/// What each of `judged` (an environment's policy and the tags it runs) would
/// take from `tags`, the tags of `repository` listed once. Creation times are
/// read only for the tags `commit-sha` policies accept and the ones they run
/// ([`newest::wanted`]).
pub fn decide(
    ui: &Ui,
    registry: &Registry,
    repository: &str,
    tags: &[String],
    judged: &[(TagPolicy, Vec<String>)],
) -> Result<Decided> {
    let wanted = newest::wanted(tags, judged);
    let mut created = BTreeMap::new();
    if !wanted.is_empty() {
        let times = ui.spin(
            &format!("reading the creation times of {} images", wanted.len()),
            || registry.created(repository, &wanted),
        );
        for (tag, time) in wanted.iter().zip(times) {
            if let Some(time) = time? {
                created.insert(tag.clone(), time);
            }
        }
    }
    let epoch = |tag: &str| created.get(tag).map(|c: &registry::Created| c.epoch);
    let decision = newest::decide(tags, judged, &epoch);
    Ok(Decided {
        ordered: decision.ordered,
        created,
        choices: decision.choices,
    })
}
