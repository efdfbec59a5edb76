//! The single SQLite writer: one thread owns the write connection and commits jobs in groups.
//!
//! Each job runs inside a savepoint of a shared transaction, so a failing job rolls back alone;
//! the group commits once and only then are the jobs answered. One commit for many requests is
//! what makes durable writes cheap; a single writer makes every job serializable.

use std::any::Any;
use std::cell::Cell;
use std::sync::{Arc, mpsc};
use std::thread;

use rusqlite::Connection;
use tokio::sync::{Notify, oneshot};

use crate::{Result, StoreError};

/// Most jobs in one transaction: bounds the latency a group adds to its first job.
const MAX_GROUP: usize = 256;

type Answer = Box<dyn FnOnce(Option<&StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Answer + Send>;

thread_local! {
    /// Set by a job of the current group that queued an outbound delivery.
    static DELIVERIES_QUEUED: Cell<bool> = const { Cell::new(false) };
}

/// Notes that the running job queued a delivery: once its group commits, the store's
/// `deliveries_queued` signal fires.
pub(crate) fn note_delivery_queued() {
    DELIVERIES_QUEUED.with(|queued| queued.set(true));
}

/// A handle that submits jobs to the writer thread.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `connection`; `queued` is notified after each commit that
    /// queued deliveries.
    pub(crate) fn start(connection: Connection, queued: Arc<Notify>) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(connection, queue, queued))
            .expect("spawn the SQLite writer thread");
        Self { jobs }
    }

    /// Runs `work` in the next group; returns once its group committed.
    pub(crate) async fn write<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<Box<dyn Any + Send>>>();
        let job: Job = Box::new(move |connection| {
            let result = in_savepoint(connection, work);
            Box::new(move |commit_error| {
                let outcome = match commit_error {
                    Some(error) => Err(error.clone()),
                    None => result.map(|r| Box::new(r) as Box<dyn Any + Send>),
                };
                let _ = reply.send(outcome);
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        let boxed = answer.await.map_err(|_| StoreError::Closed)??;
        Ok(*boxed
            .downcast::<R>()
            .expect("the writer answers with the job's own type"))
    }
}

fn in_savepoint<R>(
    connection: &Connection,
    work: impl FnOnce(&Connection) -> Result<R>,
) -> Result<R> {
    connection.execute_batch("SAVEPOINT job")?;
    match work(connection) {
        Ok(value) => {
            connection.execute_batch("RELEASE job")?;
            Ok(value)
        }
        Err(error) => {
            connection.execute_batch("ROLLBACK TO job; RELEASE job")?;
            Err(error)
        }
    }
}

fn run(connection: Connection, queue: mpsc::Receiver<Job>, queued: Arc<Notify>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
            let error = StoreError::from(error);
            for job in group {
                // Run nothing; answer each job with the error.
                drop(job);
                tracing::error!(%error, "cannot begin a write transaction");
            }
            continue;
        }
        let answers: Vec<Answer> = group.into_iter().map(|job| job(&connection)).collect();
        let commit = connection.execute_batch("COMMIT").map_err(StoreError::from);
        if commit.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        let error = commit.err();
        // A rolled-back job may have set the flag: a spurious wake-up costs one empty claim.
        if DELIVERIES_QUEUED.with(|q| q.replace(false)) && error.is_none() {
            queued.notify_one();
        }
        for answer in answers {
            answer(error.as_ref());
        }
    }
}
