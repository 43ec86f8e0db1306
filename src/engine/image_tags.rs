//! The registry's side of `image tags` and `image update`: each image's tags
//! listed in its registry once, the creation times of the `commit-sha`
//! candidates read, and [`crate::config::newest::decide`]'s verdict for each
//! environment. The images are asked for concurrently: one [`Registry`] per
//! registry host, so its cap of requests in flight
//! ([`crate::registry::client::CONCURRENCY_VAR`]) holds for all its images;
//! the answers come back in the order asked. Creation times already read are
//! taken from [`crate::engine::image_times`] by digest.

use std::collections::BTreeMap;

use futures_util::future::join_all;

use crate::config::newest::{self, Choice};
use crate::config::policy::TagPolicy;
use crate::engine::image_times::Times;
use crate::error::{refused, remote, Failure};
use crate::registry::{self, Location, Registry};
use crate::ui::Progress;

/// One image to decide for.
pub struct Ask {
    /// Its name, as the manifests write it.
    pub image: String,
    /// Each environment's policy and the tags it runs.
    pub judged: Vec<(TagPolicy, Vec<String>)>,
}

/// The registry's tags of one image, ordered and judged for its environments.
pub struct Decided {
    /// Where the image is.
    pub location: Location,
    /// The tags, newest first.
    pub ordered: Vec<String>,
    /// The creation times read.
    pub created: BTreeMap<String, registry::Created>,
    /// What each (policy, running tags) asked would take, in their order.
    pub choices: Vec<Choice>,
}

/// The verdict for each of `asks`, in their order: its tags listed once, and
/// creation times read only for the tags `commit-sha` policies accept and the
/// ones they run ([`newest::wanted`]). All images are asked for at once,
/// within each registry's cap; `progress` advances as each image is done. One
/// image's failure is its own.
pub fn decide_all(asks: &[Ask], progress: &Progress) -> Vec<Result<Decided, Failure>> {
    // Where each image is, and one client per registry.
    let located: Vec<Result<Location, Failure>> = asks
        .iter()
        .map(|ask| {
            registry::locate(&ask.image).map_err(|why| {
                refused(format!("`{}` is not an image name: {why}", ask.image))
                    .hint("fix the image name in the manifests, then run the command again")
            })
        })
        .collect();
    let mut clients: BTreeMap<String, Result<Registry, Failure>> = BTreeMap::new();
    for location in located.iter().flatten() {
        clients
            .entry(location.registry.clone())
            .or_insert_with(|| Registry::from_env(location));
    }
    let http = match crate::http::shared() {
        Ok(http) => http,
        Err(why) => {
            return asks
                .iter()
                .map(|_| {
                    Err(remote(format!("could not reach the registries: {why}"))
                        .hint("check the system's root certificates, then run the command again"))
                })
                .collect()
        }
    };
    let times = Times::load();
    let work = asks.iter().zip(&located).map(|(ask, location)| {
        let (clients, times) = (&clients, &times);
        async move {
            let decided = match location {
                Err(e) => Err(copy(e)),
                Ok(location) => match &clients[&location.registry] {
                    Err(e) => Err(copy(e)),
                    Ok(client) => one(client, location, &ask.judged, times).await,
                },
            };
            progress.inc();
            decided
        }
    });
    let decided = http.runtime.block_on(join_all(work));
    // A cache that cannot be written costs the next run some requests, no more.
    let _ = times.save();
    decided
}

/// One image's verdict.
async fn one(
    client: &Registry,
    location: &Location,
    judged: &[(TagPolicy, Vec<String>)],
    times: &Times,
) -> Result<Decided, Failure> {
    let repository = &location.repository;
    let tags = client.tags_async(repository).await?;
    let wanted = newest::wanted(&tags, judged);
    let known = |digest: &str| times.get(digest);
    let dated = join_all(
        wanted
            .iter()
            .map(|tag| client.created_async(repository, tag, &known)),
    )
    .await;
    let mut created = BTreeMap::new();
    for (tag, dated) in wanted.iter().zip(dated) {
        let dated = dated?;
        if let Some(time) = dated.created {
            if let (Some(digest), false) = (&dated.digest, dated.cached) {
                times.insert(digest, &time);
            }
            created.insert(tag.clone(), time);
        }
    }
    let epoch = |tag: &str| created.get(tag).map(|c: &registry::Created| c.epoch);
    let decision = newest::decide(&tags, judged, &epoch);
    Ok(Decided {
        location: location.clone(),
        ordered: decision.ordered,
        created,
        choices: decision.choices,
    })
}

/// The same failure again, for each image of a registry that could not be
/// set up.
fn copy(e: &Failure) -> Failure {
    Failure {
        kind: e.kind,
        message: e.message.clone(),
        hint: e.hint.clone(),
    }
}
