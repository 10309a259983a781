//! Long-lived services (STYLE: "long-lived services share one small pattern"): each is a task
//! that runs until the one shutdown signal, registered in one place at start-up
//! ([`super::server::serve`]). The re-checker, the syslog exporter, the attach reaper, the demo
//! target and whatever comes next (monitor, collectors, RADIUS) are started the same way and
//! stopped together.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The shutdown signal, as each service holds it.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Resolves once shutdown is asked for (at once if it already was).
    pub async fn requested(&mut self) {
        // An error means the sender is gone: the services are being dropped, which is a
        // shutdown too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }
}

/// The running services.
#[derive(Debug)]
pub struct Services {
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Default for Services {
    fn default() -> Self {
        Services::new()
    }
}

impl Services {
    pub fn new() -> Services {
        Services {
            stop: watch::channel(false).0,
            tasks: Vec::new(),
        }
    }

    /// Starts service `name`: `run` gets the shutdown signal and returns when it is asked for.
    pub fn spawn<F>(&mut self, name: &'static str, run: impl FnOnce(Shutdown) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let task = tokio::spawn(run(self.shutdown()));
        tracing::debug!(service = name, "Service started");
        self.tasks.push((name, task));
    }

    /// A receiver of the shutdown signal, for what is not a service but must also stop.
    pub fn shutdown(&self) -> Shutdown {
        Shutdown(self.stop.subscribe())
    }

    /// Asks every service to stop (they may still be finishing).
    pub fn request_stop(&self) {
        self.stop.send_replace(true);
    }

    /// Asks every service to stop and waits for them, at most `within` in all; a service still
    /// running then is aborted and named in the log.
    pub async fn stop(self, within: Duration) {
        self.request_stop();
        let deadline = tokio::time::Instant::now() + within;
        for (name, mut task) in self.tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!(service = name, "Service did not stop in time; aborted");
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_service_gets_the_one_signal_and_a_stuck_one_is_aborted() {
        let mut services = Services::new();
        let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel();
        for name in ["a", "b"] {
            let done_tx = done_tx.clone();
            services.spawn(name, move |mut shutdown| async move {
                shutdown.requested().await;
                let _ = done_tx.send(name);
            });
        }
        services.spawn("stuck", |_| std::future::pending());
        let started = std::time::Instant::now();
        services.stop(Duration::from_millis(200)).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        let mut stopped = vec![done.recv().await, done.recv().await];
        stopped.sort();
        assert_eq!(stopped, [Some("a"), Some("b")]);
    }
}
