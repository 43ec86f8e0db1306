//! How a call over HTTP is retried and how long it may take: one policy for
//! GitHub and the image registries.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

/// How calls are retried: at most `attempts` tries; between them
/// `base × 2^(try-1)`, or what the server asks for (`Retry-After`, GitHub's rate
/// limit reset). A wait longer than `max_wait` is not waited: the call fails at
/// once saying when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub max_wait: Duration,
    /// For one request, from sending to the end of the answer.
    pub timeout: Duration,
    /// For the call in all, its retries and the waits between them included
    /// (`GITOPS_TIMEOUT`, see [`crate::limits`]).
    pub total: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
            total: crate::limits::DEFAULT_TIMEOUT,
        }
    }
}

impl RetryPolicy {
    /// The default, with the base delay from `GITOPS_RETRY_BASE_MS` when set.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Ok(total) = crate::limits::parse_timeout(env(crate::limits::TIMEOUT_VAR).as_deref())
        {
            policy.total = total;
        }
        if let Some(ms) = env("GITOPS_RETRY_BASE_MS").and_then(|v| v.trim().parse::<u64>().ok()) {
            policy.base = Duration::from_millis(ms);
        }
        policy
    }

    /// The wait after the `attempt`th try failed (the first is 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16))
    }

    /// Runs a call: `attempt` is given the try's number (from 1) and its time
    /// limit (the request timeout, or what is left of the total), and says
    /// whether it is done or is to be retried, after a given wait or the
    /// backoff. Gives up when the tries run out, when the wait is longer than
    /// `max_wait`, or when it would end past the total.
    pub async fn run<T, F, Fut>(
        &self,
        mut attempt: impl FnMut(u32, Duration) -> Fut,
    ) -> Result<T, GaveUp<F>>
    where
        Fut: Future<Output = Attempt<T, F>>,
    {
        let start = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            let left = self.total.saturating_sub(start.elapsed());
            let (failed, wait) = match attempt(tries, self.timeout.min(left)).await {
                Attempt::Done(value) => return Ok(value),
                Attempt::Retry(failed, wait) => {
                    (failed, wait.unwrap_or_else(|| self.backoff(tries)))
                }
            };
            let out_of_time = start.elapsed() + wait >= self.total;
            if tries >= self.attempts || wait > self.max_wait || out_of_time {
                return Err(GaveUp {
                    failed,
                    attempts: tries,
                    wait,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }
}

/// What one try of a call came to.
pub enum Attempt<T, F> {
    /// An answer to keep (a success, or a failure not worth retrying).
    Done(T),
    /// A failure to retry: after the wait the server asked for, or the backoff
    /// when `None`.
    Retry(F, Option<Duration>),
}

/// A call whose last try failed.
pub struct GaveUp<F> {
    /// Why the last try failed.
    pub failed: F,
    /// The tries made.
    pub attempts: u32,
    /// The wait the next try would have needed.
    pub wait: Duration,
}

/// How long a `Retry-After` header asks to wait (RFC 9110, section 10.2.3):
/// a number of seconds, or an HTTP-date (the IMF-fixdate form, or the obsolete
/// RFC 850 and asctime ones), counted from `now`; a date already past asks for
/// no wait. `None` for anything else (the caller backs off as usual).
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Why a request that timed out failed: "no answer within 30 s".
pub fn no_answer(limit: Duration) -> String {
    format!("no answer within {} s", limit.as_secs_f64().ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn retry_policy_from_env() {
        assert_eq!(RetryPolicy::from_env(|_| None), RetryPolicy::default());
        let p = RetryPolicy::from_env(env(&[("GITOPS_RETRY_BASE_MS", "1")]));
        assert_eq!(p.base, Duration::from_millis(1));
        assert_eq!(p.backoff(1), Duration::from_millis(1));
        assert_eq!(p.backoff(3), Duration::from_millis(4));
        assert_eq!(
            RetryPolicy::from_env(env(&[("GITOPS_RETRY_BASE_MS", "x")])),
            RetryPolicy::default()
        );
        let p = RetryPolicy::from_env(env(&[("GITOPS_TIMEOUT", "5")]));
        assert_eq!(p.total, Duration::from_secs(5));
        assert_eq!(RetryPolicy::default().total, Duration::from_secs(60));
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        // Wed, 21 Oct 2015 07:28:00 GMT
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        let secs = |n| Some(Duration::from_secs(n));
        let cases = [
            ("120", secs(120)),
            (" 0 ", secs(0)),
            ("Wed, 21 Oct 2015 07:28:30 GMT", secs(30)),
            // The obsolete forms an HTTP-date may still take.
            ("Wednesday, 21-Oct-15 07:29:00 GMT", secs(60)),
            ("Wed Oct 21 07:28:05 2015", secs(5)),
            // Already past: no wait.
            ("Wed, 21 Oct 2015 07:00:00 GMT", secs(0)),
            ("", None),
            ("soon", None),
            ("-5", None),
            ("1.5", None),
            ("Wed, 32 Oct 2015 07:28:00 GMT", None),
        ];
        for (value, want) in cases {
            assert_eq!(retry_after(value, now), want, "{value:?}");
        }
    }
}
