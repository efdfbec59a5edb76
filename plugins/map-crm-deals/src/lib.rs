//! Example tenant mapper (the plugin-sdk README example): a CRM's
//! `{"deal": {"call": "abc123", "value": "250.00", "stage": "won"}}` → a revenue update and a tag.

use moja_plugin_sdk::request::json_body;
use moja_plugin_sdk::{CallSelector, Command, MapInput, Mapper, PluginError, TagOp};

/// Maps CRM deals.
pub struct CrmDeals;

fn is_decimal(text: &str) -> bool {
    let mut parts = text.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next().unwrap_or("0");
    !whole.is_empty()
        && !fraction.is_empty()
        && whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
}

impl Mapper for CrmDeals {
    fn map(input: MapInput) -> Result<Command, PluginError> {
        let body = json_body(&input.request)?;
        let deal = &body["deal"];
        let call = deal["call"]
            .as_str()
            .ok_or_else(|| PluginError::missing("deal.call"))?;
        let value = deal["value"]
            .as_str()
            .filter(|v| is_decimal(v))
            .ok_or_else(|| {
                PluginError::invalid("deal.value", "deal.value must be a decimal string")
            })?;

        let mut command = Command::new(CallSelector::CallLogId(call.to_owned()));
        command.fields.revenue_paid_out = Some(Some(value.to_owned()));
        command.fields.revenue_converts = true;
        if let Some(stage) = deal["stage"].as_str() {
            command
                .tag_ops
                .push(TagOp::Add(("crm_stage".into(), stage.into())));
        }
        moja_plugin_sdk::log::info("mapped a CRM deal");
        Ok(command)
    }
}

moja_plugin_sdk::export_mapper!(CrmDeals);

#[cfg(test)]
mod tests {
    use super::*;
    use moja_plugin_sdk::testing::RequestBuilder;
    use moja_plugin_sdk::{ErrorCode, WebhookKind};

    fn map(body: serde_json::Value) -> Result<Command, PluginError> {
        let request = RequestBuilder::post("/update-revenue").json(&body).build();
        CrmDeals::map(MapInput {
            kind: WebhookKind::UpdateRevenue,
            request,
            tags: Default::default(),
            config: vec![],
        })
    }

    #[test]
    fn maps_a_won_deal() {
        let command =
            map(serde_json::json!({"deal": {"call": "abc123", "value": "250.00", "stage": "won"}}))
                .unwrap();
        assert_eq!(command.calls, CallSelector::CallLogId("abc123".into()));
        assert_eq!(command.fields.revenue_paid_out, Some(Some("250.00".into())));
        assert!(command.fields.revenue_converts);
        assert_eq!(
            command.tag_ops,
            vec![TagOp::Add(("crm_stage".into(), "won".into()))]
        );
        assert_eq!(moja_plugin_sdk::log::take_captured().len(), 1);
    }

    #[test]
    fn refuses_a_deal_without_a_call_or_a_value() {
        let error = map(serde_json::json!({"deal": {"value": "1"}})).unwrap_err();
        assert_eq!(error.message, "Missing deal.call parameter");
        let error = map(serde_json::json!({"deal": {"call": "a", "value": "1e3"}})).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidParameter);
    }
}
