//! The single SQLite writer: one thread owns the write connection and commits jobs in groups.
//!
//! Each job runs inside a savepoint of a shared transaction, so a failing job rolls back alone;
//! the group commits once and only then are the jobs answered. One commit for many requests is
//! what makes durable writes cheap; a single writer makes every job serializable, which is how
//! this backend keeps the guarantees `moja_store::tx` asks of the primitives.
//!
//! What a job changed that others keep in memory (deliveries queued, webhooks changed) is noted
//! on its [`SqliteTx`]; the notes of the jobs that succeeded are raised as the store's signals
//! after the commit and before any job is answered.

use std::any::Any;
use std::sync::{Arc, mpsc};
use std::thread;

use moja_store::{Signals, StoreError};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::Result;
use crate::tx::{Effects, SqliteTx};

/// Most jobs in one transaction: bounds the latency a group adds to its first job.
const MAX_GROUP: usize = 256;

/// Answers a job once its group's fate is known (`Some` error: the group did not commit).
type Answer = Box<dyn FnOnce(Option<&StoreError>) + Send>;
/// Runs a job (`None`: the group could not begin, run nothing) and tells what it changed.
type Job = Box<dyn FnOnce(Option<&Connection>) -> (Answer, Effects) + Send>;

/// A handle that submits jobs to the writer thread.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `connection`; `signals` are raised after each commit.
    pub(crate) fn start(connection: Connection, signals: Arc<Signals>) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(connection, queue, signals))
            .expect("spawn the SQLite writer thread");
        Self { jobs }
    }

    /// Runs `work` in the next group; returns once its group committed.
    pub(crate) async fn write<R, F>(&self, work: F) -> moja_store::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut SqliteTx<'_>) -> Result<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<moja_store::Result<Box<dyn Any + Send>>>();
        let job: Job = Box::new(move |connection| {
            let (result, effects) = match connection {
                Some(connection) => in_savepoint(connection, work),
                // The error that stopped the group is what the answer below reports.
                None => (Err(StoreError::Closed), Effects::default()),
            };
            let answer: Answer = Box::new(move |group_error| {
                let outcome = match group_error {
                    Some(error) => Err(error.clone()),
                    None => result.map(|r| Box::new(r) as Box<dyn Any + Send>),
                };
                let _ = reply.send(outcome);
            });
            (answer, effects)
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        let boxed = answer.await.map_err(|_| StoreError::Closed)??;
        Ok(*boxed
            .downcast::<R>()
            .expect("the writer answers with the job's own type"))
    }
}

/// Runs `work` in a savepoint: released on success, rolled back on failure (whose effects are
/// then dropped).
fn in_savepoint<R>(
    connection: &Connection,
    work: impl FnOnce(&mut SqliteTx<'_>) -> Result<R>,
) -> (moja_store::Result<R>, Effects) {
    let run = || -> Result<(R, Effects)> {
        connection.execute_batch("SAVEPOINT job")?;
        let mut tx = SqliteTx::new(connection);
        match work(&mut tx) {
            Ok(value) => {
                connection.execute_batch("RELEASE job")?;
                Ok((value, tx.effects))
            }
            Err(error) => {
                connection.execute_batch("ROLLBACK TO job; RELEASE job")?;
                Err(error)
            }
        }
    };
    match run() {
        Ok((value, effects)) => (Ok(value), effects),
        Err(error) => (Err(error.into()), Effects::default()),
    }
}

fn run(connection: Connection, queue: mpsc::Receiver<Job>, signals: Arc<Signals>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
            let error = StoreError::from(crate::error::Error::from(error));
            tracing::error!(%error, "cannot begin a write transaction");
            // Run nothing; answer each job with the error.
            for job in group {
                let (answer, _) = job(None);
                answer(Some(&error));
            }
            continue;
        }
        let mut effects = Effects::default();
        let answers: Vec<Answer> = group
            .into_iter()
            .map(|job| {
                let (answer, job_effects) = job(Some(&connection));
                effects.merge(job_effects);
                answer
            })
            .collect();
        let commit = connection
            .execute_batch("COMMIT")
            .map_err(|e| StoreError::from(crate::error::Error::from(e)));
        if commit.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        let error = commit.err();
        if error.is_none() {
            if effects.webhooks_changed {
                signals.raise_webhooks_changed();
            }
            if effects.deliveries_queued {
                signals.raise_deliveries_queued();
            }
        }
        for answer in answers {
            answer(error.as_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group that cannot begin answers each of its jobs with the reason, not as if the store
    /// had closed.
    #[tokio::test]
    async fn a_failed_begin_answers_its_jobs_with_the_error() {
        let connection = Connection::open_in_memory().unwrap();
        // A transaction already open makes every `BEGIN IMMEDIATE` of the writer fail.
        connection.execute_batch("BEGIN").unwrap();
        let writer = Writer::start(connection, Arc::default());
        let result = writer.write(|_| Ok(())).await;
        match result {
            Err(StoreError::Database(message)) => {
                assert!(message.contains("transaction"), "{message}")
            }
            other => panic!("expected the BEGIN error, got {other:?}"),
        }
    }
}
