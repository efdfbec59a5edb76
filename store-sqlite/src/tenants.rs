//! Tenancy and configuration on SQLite: orgs, API keys, campaigns, custom tags and incoming
//! webhooks (whose plugin references are three columns each: owner, name, version pin).

use jiff::Timestamp;
use moja_core::rate_limit::{Period, RateLimit};
use moja_store::{
    ApiKey, Campaign, CustomTag, IncomingWebhook, MatchPolicy, NewApiKey, Org, PluginOwner,
    PluginRef, WebhookKind,
};
use rusqlite::{Connection, Row, ToSql, params};

use crate::error::{Result, stored};
use crate::rows::{self, decimal, micros, timestamp};

// --- Orgs and keys ---------------------------------------------------------------------------

const ORG_COLUMNS: &str = "id, name, default_region, currency, disabled, created_at";

fn org_from(row: &Row<'_>) -> Result<Org> {
    Ok(Org {
        id: row.get("id")?,
        name: row.get("name")?,
        default_region: row.get("default_region")?,
        currency: row.get("currency")?,
        disabled: row.get("disabled")?,
        created_at: timestamp(row.get("created_at")?)?,
    })
}

pub(crate) fn insert_org(c: &Connection, org: &Org) -> Result<()> {
    c.execute(
        &format!("INSERT INTO orgs ({ORG_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            org.id,
            org.name,
            org.default_region,
            org.currency,
            org.disabled,
            micros(org.created_at)
        ],
    )?;
    Ok(())
}

pub(crate) fn orgs(c: &Connection) -> Result<Vec<Org>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {ORG_COLUMNS} FROM orgs ORDER BY created_at, id"
    ))?;
    rows::read_all(statement.query([])?, org_from)
}

pub(crate) fn org(c: &Connection, id: &str) -> Result<Option<Org>> {
    let mut statement =
        c.prepare_cached(&format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = ?1"))?;
    let mut rows = statement.query([id])?;
    rows.next()?.map(org_from).transpose()
}

const API_KEY_COLUMNS: &str = "id, org_id, name, key_prefix, created_at, revoked_at";

fn api_key_from(row: &Row<'_>) -> Result<ApiKey> {
    Ok(ApiKey {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        name: row.get("name")?,
        key_prefix: row.get("key_prefix")?,
        created_at: timestamp(row.get("created_at")?)?,
        revoked_at: row
            .get::<_, Option<i64>>("revoked_at")?
            .map(timestamp)
            .transpose()?,
    })
}

pub(crate) fn insert_api_key(c: &Connection, key: &NewApiKey) -> Result<()> {
    c.execute(
        "INSERT INTO api_keys (id, org_id, name, key_prefix, key_hash, created_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
        params![
            key.key.id,
            key.key.org_id,
            key.key.name,
            key.key.key_prefix,
            key.hash,
            micros(key.key.created_at)
        ],
    )?;
    Ok(())
}

pub(crate) fn api_keys(c: &Connection, org_id: &str) -> Result<Vec<ApiKey>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE org_id = ?1 ORDER BY created_at, id"
    ))?;
    rows::read_all(statement.query([org_id])?, api_key_from)
}

pub(crate) fn active_api_key(c: &Connection, hash: &str) -> Result<Option<(ApiKey, Org)>> {
    let key = {
        let mut statement = c.prepare_cached(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL"
        ))?;
        let mut rows = statement.query([hash])?;
        rows.next()?.map(api_key_from).transpose()?
    };
    let Some(key) = key else {
        return Ok(None);
    };
    Ok(org(c, &key.org_id)?.map(|org| (key, org)))
}

// --- Campaigns and custom tags ---------------------------------------------------------------

const CAMPAIGN_COLUMNS: &str = "id, org_id, name, conversion_min_duration_s, buyer_revenue, publisher_payout, currency, created_at, updated_at";

fn campaign_from(row: &Row<'_>) -> Result<Campaign> {
    let amount = |column: &str| -> Result<_> {
        row.get::<_, Option<String>>(column)?
            .as_deref()
            .map(decimal)
            .transpose()
    };
    Ok(Campaign {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        name: row.get("name")?,
        conversion_min_duration_s: row.get("conversion_min_duration_s")?,
        buyer_revenue: amount("buyer_revenue")?,
        publisher_payout: amount("publisher_payout")?,
        currency: row.get("currency")?,
        created_at: timestamp(row.get("created_at")?)?,
        updated_at: timestamp(row.get("updated_at")?)?,
    })
}

pub(crate) fn insert_campaign(c: &Connection, campaign: &Campaign) -> Result<()> {
    c.execute(
        &format!(
            "INSERT INTO campaigns ({CAMPAIGN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            campaign.id,
            campaign.org_id,
            campaign.name,
            campaign.conversion_min_duration_s,
            campaign.buyer_revenue.map(|d| d.to_string()),
            campaign.publisher_payout.map(|d| d.to_string()),
            campaign.currency,
            micros(campaign.created_at),
            micros(campaign.updated_at),
        ],
    )?;
    Ok(())
}

pub(crate) fn update_campaign(c: &Connection, campaign: &Campaign) -> Result<bool> {
    Ok(c.execute(
        "UPDATE campaigns SET name = ?3, conversion_min_duration_s = ?4, buyer_revenue = ?5,
           publisher_payout = ?6, currency = ?7, updated_at = ?8
         WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        params![
            campaign.org_id,
            campaign.id,
            campaign.name,
            campaign.conversion_min_duration_s,
            campaign.buyer_revenue.map(|d| d.to_string()),
            campaign.publisher_payout.map(|d| d.to_string()),
            campaign.currency,
            micros(campaign.updated_at),
        ],
    )? == 1)
}

/// The campaigns (not deleted) that `condition` selects, oldest first.
pub(crate) fn campaigns(
    c: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Campaign>> {
    rows::select_live(
        c,
        ("campaigns", CAMPAIGN_COLUMNS),
        condition,
        params,
        campaign_from,
    )
}

pub(crate) fn insert_custom_tag(c: &Connection, tag: &CustomTag) -> Result<()> {
    c.execute(
        "INSERT INTO custom_tags (org_id, key, display_name, description, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            tag.org_id,
            tag.key,
            tag.display_name,
            tag.description,
            micros(tag.created_at)
        ],
    )?;
    Ok(())
}

pub(crate) fn custom_tags(c: &Connection, org_id: &str) -> Result<Vec<CustomTag>> {
    let mut statement = c.prepare_cached(
        "SELECT org_id, key, display_name, description, created_at FROM custom_tags
         WHERE org_id = ?1 ORDER BY created_at, key",
    )?;
    rows::read_all(statement.query([org_id])?, |row| {
        Ok(CustomTag {
            org_id: row.get("org_id")?,
            key: row.get("key")?,
            display_name: row.get("display_name")?,
            description: row.get("description")?,
            created_at: timestamp(row.get("created_at")?)?,
        })
    })
}

// --- Incoming webhooks -----------------------------------------------------------------------

const WEBHOOK_COLUMNS: &str = "id, org_id, name, kind, campaign_ids, lookback_seconds, match_policy, rate_limit, rate_period, normalizer, normalizer_owner, normalizer_version, mapper, mapper_owner, mapper_version, plugin_config, enabled, created_at, updated_at";

/// The plugin reference stored in the columns `{role}`, `{role}_owner`, `{role}_version`.
pub(crate) fn plugin_ref(row: &Row<'_>, role: &str) -> Result<PluginRef> {
    Ok(PluginRef {
        owner: PluginOwner::from_org_id(row.get(format!("{role}_owner").as_str())?),
        name: row.get(role)?,
        version: row.get(format!("{role}_version").as_str())?,
    })
}

fn webhook_from(row: &Row<'_>) -> Result<IncomingWebhook> {
    let kind: String = row.get("kind")?;
    let policy: String = row.get("match_policy")?;
    let period: String = row.get("rate_period")?;
    Ok(IncomingWebhook {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        name: row.get("name")?,
        kind: WebhookKind::parse(&kind).ok_or_else(|| stored("webhook kind", &kind))?,
        campaign_ids: serde_json::from_str(&row.get::<_, String>("campaign_ids")?)?,
        lookback_seconds: row.get("lookback_seconds")?,
        match_policy: if policy == "all" {
            MatchPolicy::All
        } else {
            MatchPolicy::MostRecent
        },
        rate_limit: RateLimit {
            limit: row.get("rate_limit")?,
            period: period
                .parse::<Period>()
                .map_err(|_| stored("rate period", &period))?,
        },
        normalizer: plugin_ref(row, "normalizer")?,
        mapper: plugin_ref(row, "mapper")?,
        plugin_config: serde_json::from_str(&row.get::<_, String>("plugin_config")?)?,
        enabled: row.get("enabled")?,
        created_at: timestamp(row.get("created_at")?)?,
        updated_at: timestamp(row.get("updated_at")?)?,
    })
}

/// The settings columns of an incoming webhook, in [`settings_values`] order.
const SETTINGS_COLUMNS: [&str; 14] = [
    "name",
    "campaign_ids",
    "lookback_seconds",
    "match_policy",
    "rate_limit",
    "rate_period",
    "normalizer",
    "normalizer_owner",
    "normalizer_version",
    "mapper",
    "mapper_owner",
    "mapper_version",
    "plugin_config",
    "enabled",
];

/// The values of the settings a create and an update both write.
fn settings_values(w: &IncomingWebhook) -> Result<Vec<Box<dyn ToSql>>> {
    Ok(vec![
        Box::new(w.name.clone()),
        Box::new(serde_json::to_string(&w.campaign_ids)?),
        Box::new(w.lookback_seconds),
        Box::new(w.match_policy.as_str()),
        Box::new(w.rate_limit.limit),
        Box::new(w.rate_limit.period.to_string()),
        Box::new(w.normalizer.name.clone()),
        Box::new(w.normalizer.owner.org_id().map(str::to_owned)),
        Box::new(w.normalizer.version.clone()),
        Box::new(w.mapper.name.clone()),
        Box::new(w.mapper.owner.org_id().map(str::to_owned)),
        Box::new(w.mapper.version.clone()),
        Box::new(serde_json::to_string(&w.plugin_config)?),
        Box::new(w.enabled),
    ])
}

pub(crate) fn insert_incoming_webhook(
    c: &Connection,
    webhook: &IncomingWebhook,
    key_hash: &str,
) -> Result<()> {
    let mut values: Vec<Box<dyn ToSql>> = vec![
        Box::new(key_hash.to_owned()),
        Box::new(webhook.id.clone()),
        Box::new(webhook.org_id.clone()),
        Box::new(webhook.kind.as_str()),
        Box::new(micros(webhook.created_at)),
        Box::new(micros(webhook.updated_at)),
    ];
    values.extend(settings_values(webhook)?);
    let mut columns = [
        "key_hash",
        "id",
        "org_id",
        "kind",
        "created_at",
        "updated_at",
    ]
    .to_vec();
    columns.extend(SETTINGS_COLUMNS);
    rows::insert(c, "incoming_webhooks", &columns, values)
}

pub(crate) fn update_incoming_webhook(c: &Connection, webhook: &IncomingWebhook) -> Result<bool> {
    let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(micros(webhook.updated_at))];
    values.extend(settings_values(webhook)?);
    let mut columns = vec!["updated_at"];
    columns.extend(SETTINGS_COLUMNS);
    rows::update_live(
        c,
        "incoming_webhooks",
        (&webhook.org_id, &webhook.id),
        &columns,
        values,
    )
}

/// One incoming webhook of an org (not deleted).
pub(crate) fn incoming_webhook(
    c: &Connection,
    org_id: &str,
    id: &str,
) -> Result<Option<IncomingWebhook>> {
    Ok(
        incoming_webhooks(c, "org_id = ?1 AND id = ?2", [org_id, id])?
            .into_iter()
            .next(),
    )
}

/// The webhooks (not deleted) that `condition` selects, oldest first.
pub(crate) fn incoming_webhooks(
    c: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<IncomingWebhook>> {
    rows::select_live(
        c,
        ("incoming_webhooks", WEBHOOK_COLUMNS),
        condition,
        params,
        webhook_from,
    )
}

pub(crate) fn rotate_incoming_webhook_key(
    c: &Connection,
    org_id: &str,
    id: &str,
    key_hash: &str,
    at: Timestamp,
) -> Result<bool> {
    Ok(c.execute(
        "UPDATE incoming_webhooks SET key_hash = ?3, updated_at = ?4
         WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        params![org_id, id, key_hash, micros(at)],
    )? == 1)
}

pub(crate) fn delete_incoming_webhook(
    c: &Connection,
    org_id: &str,
    id: &str,
    at: Timestamp,
) -> Result<bool> {
    // The key hash is replaced so the deleted webhook's key can never authenticate.
    Ok(c.execute(
        "UPDATE incoming_webhooks SET deleted_at = ?3, key_hash = 'deleted:' || id
         WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        params![org_id, id, micros(at)],
    )? == 1)
}
