//! Server-streaming watches (`Watch…` RPCs): the dashboard follows a value instead of polling
//! it. Each stream sends the value at once, then again only when it changed. A write in this
//! process pokes its service's [`Changes`], so the change shows at once; writes by other
//! replicas show at the next recheck. Streams are bounded in number and lifetime (clients
//! reconnect) and end when the server starts closing, so they never hold up a shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::BoxStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tonic::Status;

/// A service's "something changed here" signal; cheap to poke, cloned into its writers.
#[derive(Clone)]
pub struct Changes(Arc<watch::Sender<u64>>);

impl Default for Changes {
    fn default() -> Self {
        Changes(Arc::new(watch::Sender::new(0)))
    }
}

impl Changes {
    /// Wakes every watch of this service (they recompute and send if the value moved).
    pub fn poke(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// The server's "closing" flag, set once when it starts shutting down.
#[derive(Clone)]
pub struct Closing(watch::Receiver<bool>);

impl Closing {
    /// A flag and the function that raises it.
    pub fn new() -> (Closing, impl FnOnce() + Send + 'static) {
        let (tx, rx) = watch::channel(false);
        (Closing(rx), move || {
            let _ = tx.send(true);
        })
    }

    /// Never raised (services built without a server around them, e.g. in tests).
    pub fn never() -> Closing {
        // With the sender gone the flag can never rise; `raised` then waits forever.
        Closing(watch::channel(false).1)
    }

    async fn raised(mut self) {
        if self.0.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// How watches of one service behave.
#[derive(Clone)]
pub struct Watches {
    changes: Changes,
    closing: Closing,
    slots: Arc<Semaphore>,
    /// Recompute at least this often (other replicas' writes, time-based values).
    pub recheck: Duration,
    /// End a stream after this long; the client reconnects. Credentials are checked when a
    /// stream opens, so this also bounds how long a signed-out session keeps receiving.
    pub lifetime: Duration,
}

/// Concurrent watch streams per service: each recomputes its value on every recheck.
pub const MAX_WATCHES: usize = 256;

impl Watches {
    pub fn new(changes: Changes, closing: Closing, recheck: Duration) -> Watches {
        Watches {
            changes,
            closing,
            slots: Arc::new(Semaphore::new(MAX_WATCHES)),
            recheck,
            lifetime: Duration::from_secs(60),
        }
    }

    /// The service's change signal, for its writers to poke.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// A stream of `compute()`'s value: now, then whenever it differs from the last one sent.
    /// A failed computation is sent as the stream's final status.
    pub fn follow<T, F, Fut>(
        &self,
        compute: F,
    ) -> Result<BoxStream<'static, Result<T, Status>>, Status>
    where
        T: PartialEq + Clone + Send + 'static,
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, Status>> + Send + 'static,
    {
        let permit = Arc::clone(&self.slots).try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "too many live views are open ({MAX_WATCHES}); close some dashboard tabs or try again later"
            ))
        })?;
        let state = Follow {
            compute,
            changes: self.changes.subscribe(),
            closing: Box::pin(self.closing.clone().raised()),
            recheck: self.recheck,
            deadline: Instant::now() + self.lifetime,
            last: None,
            started: false,
            done: false,
            _permit: permit,
        };
        Ok(Box::pin(futures::stream::unfold(state, Follow::next)))
    }
}

struct Follow<T, F> {
    compute: F,
    changes: watch::Receiver<u64>,
    closing: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    recheck: Duration,
    deadline: Instant,
    last: Option<T>,
    started: bool,
    done: bool,
    _permit: OwnedSemaphorePermit,
}

impl<T, F, Fut> Follow<T, F>
where
    T: PartialEq + Clone + Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, Status>> + Send + 'static,
{
    async fn next(mut self) -> Option<(Result<T, Status>, Self)> {
        loop {
            if self.done {
                return None;
            }
            if self.started {
                let changes = &mut self.changes;
                let poked = async {
                    // No sender left: nothing will poke again, the recheck still runs.
                    if changes.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    () = &mut self.closing => return None,
                    () = tokio::time::sleep_until(self.deadline) => return None,
                    () = poked => {}
                    () = tokio::time::sleep(self.recheck) => {}
                }
            }
            self.started = true;
            match (self.compute)().await {
                Ok(value) if self.last.as_ref() == Some(&value) => {}
                Ok(value) => {
                    self.last = Some(value.clone());
                    return Some((Ok(value), self));
                }
                Err(status) => {
                    self.done = true;
                    return Some((Err(status), self));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn counter() -> (
        Arc<AtomicU32>,
        impl FnMut() -> futures::future::Ready<Result<u32, Status>>,
    ) {
        let n = Arc::new(AtomicU32::new(0));
        let read = Arc::clone(&n);
        (n, move || {
            futures::future::ready(Ok(read.load(Ordering::SeqCst)))
        })
    }

    #[tokio::test(start_paused = true)]
    async fn sends_now_then_only_changes() {
        let w = Watches::new(Changes::default(), Closing::never(), Duration::from_secs(5));
        let (n, compute) = counter();
        let mut s = w.follow(compute).unwrap();
        assert_eq!(s.next().await.unwrap().unwrap(), 0);
        // Unchanged after a poke and a recheck: nothing is sent.
        w.changes().poke();
        let quiet = tokio::time::timeout(Duration::from_secs(12), s.next()).await;
        assert!(quiet.is_err(), "an unchanged value was sent again");
        n.store(7, Ordering::SeqCst);
        w.changes().poke();
        let poked = tokio::time::timeout(Duration::from_millis(10), s.next()).await;
        assert_eq!(poked.unwrap().unwrap().unwrap(), 7);
        // Without a poke, the recheck finds it.
        n.store(8, Ordering::SeqCst);
        let rechecked = tokio::time::timeout(Duration::from_secs(6), s.next()).await;
        assert_eq!(rechecked.unwrap().unwrap().unwrap(), 8);
    }

    #[tokio::test(start_paused = true)]
    async fn ends_on_closing_on_lifetime_and_after_an_error() {
        let (closing, close) = Closing::new();
        let w = Watches::new(Changes::default(), closing, Duration::from_secs(5));
        let (_, compute) = counter();
        let mut s = w.follow(compute).unwrap();
        s.next().await.unwrap().unwrap();
        close();
        assert!(s.next().await.is_none());

        let mut w = Watches::new(Changes::default(), Closing::never(), Duration::from_secs(5));
        w.lifetime = Duration::from_secs(30);
        let (_, compute) = counter();
        let mut s = w.follow(compute).unwrap();
        s.next().await.unwrap().unwrap();
        assert!(s.next().await.is_none(), "the stream outlived its lifetime");

        let mut s = w
            .follow(|| futures::future::ready(Err::<u32, _>(Status::permission_denied("no"))))
            .unwrap();
        assert_eq!(
            s.next().await.unwrap().unwrap_err().code(),
            tonic::Code::PermissionDenied
        );
        assert!(s.next().await.is_none());
    }

    #[tokio::test]
    async fn refuses_past_the_limit_and_frees_slots() {
        let w = Watches::new(Changes::default(), Closing::never(), Duration::from_secs(5));
        let open: Vec<_> = (0..MAX_WATCHES)
            .map(|_| w.follow(|| futures::future::ready(Ok(1u8))).unwrap())
            .collect();
        let refused = w.follow(|| futures::future::ready(Ok(1u8)));
        assert_eq!(
            refused.err().unwrap().code(),
            tonic::Code::ResourceExhausted
        );
        drop(open);
        assert!(w.follow(|| futures::future::ready(Ok(1u8))).is_ok());
    }
}
