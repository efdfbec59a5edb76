//! The stored forms shared by every table: times as microseconds since the epoch, money as
//! decimal text, list pages with `(time, id)` cursors.

use jiff::Timestamp;
use moja_store::Page;
use rust_decimal::Decimal;

use crate::error::{Result, stored};

/// Microseconds since the epoch, the stored form of a timestamp.
pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// The timestamp of stored microseconds.
pub(crate) fn timestamp(us: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(us).map_err(|_| stored("time", us))
}

/// A stored decimal.
pub(crate) fn decimal(text: &str) -> Result<Decimal> {
    text.parse().map_err(|_| stored("decimal", text))
}

/// A page's cursor as `(time, id)` ([`moja_store::Cursor`]).
pub(crate) fn parse_cursor(cursor: Option<&str>) -> Option<(i64, String)> {
    let cursor = moja_store::Cursor::parse(cursor?)?;
    Some((cursor.micros, cursor.id))
}

/// A page of at most `limit` items from `rows` (which read one more, to tell whether a next page
/// exists), its cursor made of the last item's `(time, id)`.
pub(crate) fn page_of<T>(
    rows: impl Iterator<Item = Result<T>>,
    limit: usize,
    key: impl Fn(&T) -> (i64, String),
) -> Result<Page<T>> {
    let mut items: Vec<T> = Vec::new();
    let mut more = false;
    for row in rows {
        if items.len() == limit {
            more = true;
            break;
        }
        items.push(row?);
    }
    let next_cursor = if more {
        items.last().map(|item| {
            let (micros, id) = key(item);
            moja_store::Cursor { micros, id }.to_string()
        })
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The page size a list reads: 50 by default, at most 200.
pub(crate) fn page_limit(limit: usize) -> usize {
    if limit == 0 { 50 } else { limit.min(200) }
}

/// Inserts a row of `table`: each of `columns` gets the value at its position.
pub(crate) fn insert(
    c: &rusqlite::Connection,
    table: &str,
    columns: &[&str],
    values: Vec<Box<dyn rusqlite::ToSql>>,
) -> Result<()> {
    let placeholders = (1..=columns.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    c.prepare_cached(&format!(
        "INSERT INTO {table} ({}) VALUES ({placeholders})",
        columns.join(", ")
    ))?
    .execute(rusqlite::params_from_iter(values.iter()))?;
    Ok(())
}

/// Sets `columns` to `values` on the org's row `id` of `table` unless it was deleted; whether it
/// was there.
pub(crate) fn update_live(
    c: &rusqlite::Connection,
    table: &str,
    (org_id, id): (&str, &str),
    columns: &[&str],
    values: Vec<Box<dyn rusqlite::ToSql>>,
) -> Result<bool> {
    let assignments = columns
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ?{}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let mut all: Vec<Box<dyn rusqlite::ToSql>> =
        vec![Box::new(org_id.to_owned()), Box::new(id.to_owned())];
    all.extend(values);
    Ok(c.prepare_cached(&format!(
        "UPDATE {table} SET {assignments} WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL"
    ))?
    .execute(rusqlite::params_from_iter(all.iter()))?
        == 1)
}

/// The rows of `table` not deleted that `condition` selects, oldest first, each read by `from`.
/// Each caller's condition is a constant, so each gets its own cached statement and index.
pub(crate) fn select_live<T>(
    c: &rusqlite::Connection,
    (table, columns): (&str, &str),
    condition: &str,
    params: impl rusqlite::Params,
    from: impl Fn(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {columns} FROM {table}
         WHERE {condition} AND deleted_at IS NULL ORDER BY created_at, id"
    ))?;
    read_all(statement.query(params)?, from)
}

/// Every row of `rows`, each read by `from`.
pub(crate) fn read_all<T>(
    mut rows: rusqlite::Rows<'_>,
    from: impl Fn(&rusqlite::Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut items = Vec::new();
    while let Some(row) = rows.next()? {
        items.push(from(row)?);
    }
    Ok(items)
}
