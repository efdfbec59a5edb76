//! Unit and property tests of the template renderer.

use moja_plugin_sdk::{
    BodyFormat, ErrorCode, PluginError, RenderInput, RenderedRequest, Renderer, Tag, Template,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::{TemplateRenderer, placeholders};

fn tag(name: &str, value: Option<&str>) -> Tag {
    Tag {
        name: name.to_owned(),
        value: value.map(str::to_owned),
    }
}

fn some_tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
    pairs.iter().map(|(n, v)| tag(n, Some(v))).collect()
}

#[derive(Debug, Clone)]
struct T {
    method: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
    format: BodyFormat,
}

impl T {
    fn json(body: &str) -> Self {
        Self {
            method: "POST",
            url: "https://example.com/hook".to_owned(),
            headers: Vec::new(),
            body: body.to_owned(),
            format: BodyFormat::Json,
        }
    }

    fn form(body: &str) -> Self {
        Self {
            format: BodyFormat::Form,
            ..Self::json(body)
        }
    }

    fn url(url: &str) -> Self {
        Self {
            method: "GET",
            url: url.to_owned(),
            ..Self::json("")
        }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn render(&self, tags: Vec<Tag>) -> Result<RenderedRequest, PluginError> {
        TemplateRenderer::render(RenderInput {
            template: Template {
                method: self.method.to_owned(),
                url: self.url.clone(),
                headers: self.headers.clone(),
                body: self.body.clone(),
                body_format: self.format,
            },
            event: "call.completed".to_owned(),
            tags,
            config: vec![("unknown".to_owned(), "ignored".to_owned())],
        })
    }
}

fn body_text(r: &RenderedRequest) -> &str {
    std::str::from_utf8(&r.body).expect("utf-8 body")
}

fn body_json(r: &RenderedRequest) -> Value {
    serde_json::from_slice(&r.body).expect("valid JSON body")
}

fn form_fields(r: &RenderedRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(&r.body).into_owned().collect()
}

fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn assert_invalid_template(result: Result<RenderedRequest, PluginError>, needle: &str) {
    let err = result.expect_err("should fail");
    assert_eq!(err.code, ErrorCode::InvalidTemplate, "{}", err.message);
    assert!(
        err.message.contains(needle),
        "{:?} lacks {needle:?}",
        err.message
    );
}

const SEED_003_TEMPLATE: &str = r#"{
"call_id": "[CALL_ID]",
"caller": "[CALLER_ID]",
"campaign": "[CAMPAIGN_NAME]",
"duration": "[DURATION]",
"converted": "[CONVERTED]",
"revenue": "[REVENUE_PAID_OUT]",
"tags": {
"source": "[UTM_SOURCE]",
"state": "[CALLER_STATE]"
}
}"#;

const SEED_003_PAYLOAD: &str = r#"{
"call_id": "call_abc123def456",
"caller": "+13105559876",
"campaign": "Medicare Leads Q1",
"duration": "145",
"converted": "true",
"revenue": "35.00",
"tags": {
"source": "google_ads",
"state": "CA"
}
}"#;

fn seed_003_tags() -> Vec<Tag> {
    some_tags(&[
        ("CALL_ID", "call_abc123def456"),
        ("CALLER_ID", "+13105559876"),
        ("CAMPAIGN_NAME", "Medicare Leads Q1"),
        ("DURATION", "145"),
        ("CONVERTED", "true"),
        ("REVENUE_PAID_OUT", "35.00"),
        ("UTM_SOURCE", "google_ads"),
        ("CALLER_STATE", "CA"),
        ("CAMPAIGN_ID", "camp_77"),
    ])
}

#[test]
fn seed_003_body_template_gives_the_documented_payload() {
    let r = T::json(SEED_003_TEMPLATE).render(seed_003_tags()).unwrap();
    let expected: Value = serde_json::from_str(SEED_003_PAYLOAD).unwrap();
    assert_eq!(body_json(&r), expected);
    assert_eq!(body_text(&r), SEED_003_PAYLOAD);
    assert!(body_text(&r).contains(r#""duration": "145""#));
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "https://example.com/hook");
}

#[test]
fn unavailable_tags_stay_raw_inside_strings() {
    let mut tags = seed_003_tags();
    for t in &mut tags {
        if t.name == "CONVERTED" || t.name == "REVENUE_PAID_OUT" {
            t.value = None;
        }
    }
    let r = T::json(SEED_003_TEMPLATE).render(tags).unwrap();
    let body = body_json(&r);
    assert_eq!(body["converted"], "[CONVERTED]");
    assert_eq!(body["revenue"], "[REVENUE_PAID_OUT]");
    assert_eq!(body["call_id"], "call_abc123def456");
    assert!(body_text(&r).contains(r#""converted": "[CONVERTED]""#));
}

#[test]
fn applicable_empty_tags_render_empty() {
    let mut tags = seed_003_tags();
    tags.retain(|t| t.name != "UTM_SOURCE");
    tags.push(tag("UTM_SOURCE", Some("")));
    let r = T::json(SEED_003_TEMPLATE).render(tags).unwrap();
    assert_eq!(body_json(&r)["tags"]["source"], "");
}

const SEED_004_TELEGRAM: &str = r#"{
"chat_id": -5002186479,
"text": "✅ *Call Converted*\n\n📞 Call ID: `[CALL_ID]`\n🔗 Call SID: `[CALL_SID]`\n👤 From: `[FROM]`\n📢 Campaign: *[CAMPAIGN_NAME]*\n🏢 Buyer: *[BUYER_NAME]*\n💰 Buyer Payout: *[REVENUE_PAID_OUT]*\n📤 Publisher: *[PUBLISHER_NAME]*\n⏱ Duration: *[DURATION]s*\n💵 Publisher Payout: *[CONFIGURED_PUBLISHER_PAYOUT]*\n⏰ Converted At: *[CALL_CONVERTED_AT]*"
}"#;

#[test]
fn seed_004_telegram_template_renders_valid_json_with_emoji_and_newlines() {
    let tags = some_tags(&[
        ("CALL_ID", "b88d2ccc-1f"),
        ("CALL_SID", "CA9f8e"),
        ("FROM", "+13105559876"),
        ("CAMPAIGN_NAME", "Medicare \"Q1\" \\ 🚀"),
        ("BUYER_NAME", "Acme\nInsurance"),
        ("REVENUE_PAID_OUT", "90.00"),
        ("PUBLISHER_NAME", "Medi-Pub"),
        ("DURATION", "145"),
        ("CONFIGURED_PUBLISHER_PAYOUT", "$1,234.50"),
        ("CALL_CONVERTED_AT", "2026-03-01T12:00:00.000Z"),
    ]);
    let r = T::json(SEED_004_TELEGRAM).render(tags).unwrap();
    let body = body_json(&r);
    assert_eq!(body["chat_id"].to_string(), "-5002186479");
    let expected = "✅ *Call Converted*\n\n📞 Call ID: `b88d2ccc-1f`\n🔗 Call SID: `CA9f8e`\n👤 From: `+13105559876`\n📢 Campaign: *Medicare \"Q1\" \\ 🚀*\n🏢 Buyer: *Acme\nInsurance*\n💰 Buyer Payout: *90.00*\n📤 Publisher: *Medi-Pub*\n⏱ Duration: *145s*\n💵 Publisher Payout: *$1,234.50*\n⏰ Converted At: *2026-03-01T12:00:00.000Z*";
    assert_eq!(body["text"], expected);
    // Emoji pass through unescaped; the value's newline is escaped as \n.
    assert!(body_text(&r).contains("🚀"));
    assert!(body_text(&r).contains(r"*Acme\nInsurance*"));
    assert!(body_text(&r).contains(r#"Medicare \"Q1\" \\ 🚀"#));
}

#[test]
fn seed_004_telegram_template_with_unavailable_tags() {
    let tags = vec![
        tag("CALL_ID", Some("c1")),
        tag("REVENUE_PAID_OUT", None),
        tag("CALL_CONVERTED_AT", None),
    ];
    let r = T::json(SEED_004_TELEGRAM).render(tags).unwrap();
    let text = body_json(&r)["text"].as_str().unwrap().to_owned();
    assert!(text.contains("Call ID: `c1`"));
    assert!(text.contains("Buyer Payout: *[REVENUE_PAID_OUT]*"));
    assert!(text.contains("Converted At: *[CALL_CONVERTED_AT]*"));
    // Unknown to the tag list entirely: also raw.
    assert!(text.contains("From: `[FROM]`"));
}

#[test]
fn standalone_placeholders_become_numbers_booleans_or_strings() {
    let cases: &[(Option<&str>, &str)] = &[
        (Some("35.00"), "35.00"),
        (Some("0"), "0"),
        (Some("-0.5"), "-0.5"),
        (Some("1e3"), "1e3"),
        (Some("-2.5E-7"), "-2.5E-7"),
        (Some("12345678901234567890123"), "12345678901234567890123"),
        (Some("true"), "true"),
        (Some("false"), "false"),
        (Some("02134"), r#""02134""#),
        (Some("+1"), r#""+1""#),
        (Some(".5"), r#"".5""#),
        (Some("1."), r#""1.""#),
        (Some("1e"), r#""1e""#),
        (Some("-"), r#""-""#),
        (Some(" 1"), r#"" 1""#),
        (Some("0x10"), r#""0x10""#),
        (Some("NaN"), r#""NaN""#),
        (Some("True"), r#""True""#),
        (Some("null"), r#""null""#),
        (Some("$1,234.50"), r#""$1,234.50""#),
        (Some("say \"hi\"\n"), r#""say \"hi\"\n""#),
        (Some(""), r#""""#),
        (None, r#""[AMOUNT]""#),
    ];
    for (value, expected) in cases {
        let r = T::json(r#"{"amount": [AMOUNT]}"#)
            .render(vec![tag("AMOUNT", *value)])
            .unwrap();
        assert_eq!(
            body_text(&r),
            format!(r#"{{"amount": {expected}}}"#),
            "{value:?}"
        );
    }
    // Unknown: raw, quoted.
    let r = T::json(r#"{"a": [NOPE], "b": [[X], [Y]]}"#)
        .render(some_tags(&[("X", "1"), ("Y", "y")]))
        .unwrap();
    assert_eq!(body_text(&r), r#"{"a": "[NOPE]", "b": [1, "y"]}"#);
}

#[test]
fn hostile_values_cannot_break_the_json_body() {
    let hostile = [
        "\"}, \"admin\": true, \"x\": {\"",
        "back\\slash\\",
        "line1\nline2\r\n",
        "</script><script>alert(1)</script>",
        "&a=b",
        "tab\there \u{0}\u{1f}\u{7f}",
        "😀 日本語 \u{2028}",
        "[OTHER_TAG]",
        "\\u0022",
    ];
    for value in hostile {
        let r = T::json(r#"{"in": "x[V]y", "alone": [V]}"#)
            .render(vec![tag("V", Some(value)), tag("OTHER_TAG", Some("NO"))])
            .unwrap();
        let body = body_json(&r);
        assert_eq!(body["in"], format!("x{value}y"), "{value:?}");
        assert_eq!(body["alone"], value, "{value:?}");
        assert_eq!(body.as_object().unwrap().len(), 2);
    }
    let r = T::json(r#"{"s": "[V]"}"#)
        .render(vec![tag("V", Some("</script>😀"))])
        .unwrap();
    assert_eq!(body_text(&r), r#"{"s": "</script>😀"}"#);
}

#[test]
fn substitution_is_single_pass() {
    let tags = some_tags(&[("A", "[B]"), ("B", "nope")]);
    let r = T::json(r#"{"a": "[A]", "b": [A]}"#)
        .render(tags.clone())
        .unwrap();
    assert_eq!(body_text(&r), r#"{"a": "[B]", "b": "[B]"}"#);

    let mut t = T::form("a=[A]&b=[B]");
    t.url = "https://example.com/p/[A]?q=[A]".to_owned();
    let t = t.header("X-A", "[A]");
    let r = t.render(tags).unwrap();
    assert_eq!(body_text(&r), "a=%5BB%5D&b=nope");
    assert_eq!(r.url, "https://example.com/p/%5BB%5D?q=%5BB%5D");
    assert_eq!(r.headers, [("X-A".to_owned(), "[B]".to_owned())]);
}

#[test]
fn invalid_json_templates_are_rejected() {
    assert_invalid_template(
        T::json(r#"{"a": [A], }"#).render(some_tags(&[("A", "1")])),
        "not valid JSON after substitution",
    );
    let err = T::json("{\"a\": \"[A]\" \"b\"}")
        .render(some_tags(&[("A", "1")]))
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("body"));
    assert!(err.message.contains("line 1 column"), "{}", err.message);
    // Adjacent standalone values.
    assert_invalid_template(
        T::json(r#"{"a": [A][B]}"#).render(some_tags(&[("A", "x"), ("B", "y")])),
        "not valid JSON",
    );
    // Escaped bracket: left as written, which is not JSON.
    assert_invalid_template(
        T::json(r#"{"a": "\[A]"}"#).render(some_tags(&[("A", "x")])),
        "not valid JSON",
    );
}

#[test]
fn json_escapes_in_the_template_are_respected() {
    let r = T::json(r#"{"q\"[A]": "\\[A]\"", "n": [A]}"#)
        .render(some_tags(&[("A", "v\"")]))
        .unwrap();
    assert_eq!(body_text(&r), r#"{"q\"v\"": "\\v\"\"", "n": "v\""}"#);
    let body = body_json(&r);
    assert_eq!(body["q\"v\""], "\\v\"\"");
}

#[test]
fn seed_003_url_example() {
    let r = T::url("https://your-api.com/webhook?call_id=[CALL_ID]&campaign=[CAMPAIGN_ID]")
        .render(seed_003_tags())
        .unwrap();
    assert_eq!(
        r.url,
        "https://your-api.com/webhook?call_id=call_abc123def456&campaign=camp_77"
    );
    assert_eq!(r.method, "GET");
    assert!(r.body.is_empty());
    assert_eq!(r.content_type, None);
}

#[test]
fn url_values_are_percent_encoded_for_path_and_query() {
    let tags = some_tags(&[
        ("P", "a/b?c#d%e f+g"),
        ("Q", "x&y=z+1 #2 é😀"),
        ("PHONE", "+13105559876"),
        ("E", ""),
    ]);
    let r = T::url("https://h.example:8443/v1/[P]/[PHONE]?q=[Q]&p=[PHONE]&e=[E]#frag-[Q]")
        .render(tags)
        .unwrap();
    assert_eq!(
        r.url,
        "https://h.example:8443/v1/a%2Fb%3Fc%23d%25e%20f%2Bg/%2B13105559876\
         ?q=x%26y%3Dz%2B1%20%232%20%C3%A9%F0%9F%98%80&p=%2B13105559876&e=#frag-x%26y%3Dz%2B1%20%232%20%C3%A9%F0%9F%98%80"
    );
    assert_eq!(
        query_pairs(&r.url),
        [
            ("q".to_owned(), "x&y=z+1 #2 é😀".to_owned()),
            ("p".to_owned(), "+13105559876".to_owned()),
            ("e".to_owned(), String::new()),
        ]
    );
}

#[test]
fn url_raw_placeholders_and_literal_text_stay_valid() {
    let tags = vec![tag("CONVERTED", None)];
    let r = T::url(
        "HTTPS://h.example/a b/[lower]/[CONVERTED]?c=[CONVERTED]&u=[UNKNOWN]&s=%20ok&bad=%zz|é",
    )
    .render(tags)
    .unwrap();
    assert_eq!(
        r.url,
        "https://h.example/a%20b/%5Blower%5D/%5BCONVERTED%5D?c=%5BCONVERTED%5D&u=%5BUNKNOWN%5D&s=%20ok&bad=%25zz%7C%C3%A9"
    );
    let pairs = query_pairs(&r.url);
    assert_eq!(pairs[0], ("c".to_owned(), "[CONVERTED]".to_owned()));
    assert_eq!(pairs[1], ("u".to_owned(), "[UNKNOWN]".to_owned()));

    let r = T::url("http://[::1]:8080/x?y=[A]")
        .render(some_tags(&[("A", "1")]))
        .unwrap();
    assert_eq!(r.url, "http://[::1]:8080/x?y=1");
    let r = T::url("  https://user:pw@h.example?x=[A]  ")
        .render(some_tags(&[("A", "1")]))
        .unwrap();
    assert_eq!(r.url, "https://user:pw@h.example?x=1");
}

#[test]
fn placeholders_in_scheme_or_host_are_rejected() {
    let tags = some_tags(&[("HOST", "evil.example"), ("S", "https"), ("P", "80")]);
    for url in [
        "https://[HOST]/hook",
        "https://api.[HOST]/hook",
        "https://example.com[HOST]/hook",
        "https://[HOST]",
        "[S]://example.com/hook",
        "https://[HOST]@example.com/hook",
        "https://u:[HOST]@example.com/",
        "https://example.com:[P]/hook",
        "[HOST]/hook",
        "[HOST]",
    ] {
        let err = T::url(url).render(tags.clone()).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTemplate, "{url}");
        assert_eq!(err.field.as_deref(), Some("url"));
        assert_eq!(
            err.message,
            "placeholders are not allowed in the URL's scheme or host: a tag must not redirect a delivery",
            "{url}"
        );
    }
}

#[test]
fn only_absolute_http_urls() {
    for url in [
        "ftp://example.com/x",
        "javascript://x",
        "/relative/[A]",
        "example.com/x",
        "",
        "https://",
        "https:///path",
        "https://:80/",
        "https://h.example:99999/",
        "https://h.example:8a/",
        "https://h ost/",
        "https://h<o>st/",
        "https://[::1/",
    ] {
        let err = T::url(url).render(some_tags(&[("A", "1")])).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTemplate, "{url}");
        assert_eq!(err.field.as_deref(), Some("url"), "{url}");
    }
    assert_invalid_template(
        T::url("ftp://example.com/x").render(Vec::new()),
        "not an absolute http or https URL",
    );
}

#[test]
fn header_values_are_substituted_and_line_breaks_rejected() {
    let tags = some_tags(&[
        ("TOKEN", "abc.def"),
        ("NAME", "Zoë 😀 \"quoted\""),
        ("TAB", "a\tb"),
        ("CRLF", "x\r\nX-Injected: 1"),
        ("LF", "x\ny"),
        ("NUL", "x\u{0}y"),
        ("DEL", "x\u{7f}y"),
    ]);
    let r = T::json("")
        .header("Authorization", "Bearer [TOKEN]")
        .header("X-Name", "[NAME]")
        .header("X-Tab", "[TAB]")
        .header("X-Missing", "[CONVERTED] [UNKNOWN]")
        .render(tags.clone())
        .unwrap();
    assert_eq!(
        r.headers,
        [
            ("Authorization".to_owned(), "Bearer abc.def".to_owned()),
            ("X-Name".to_owned(), "Zoë 😀 \"quoted\"".to_owned()),
            ("X-Tab".to_owned(), "a\tb".to_owned()),
            ("X-Missing".to_owned(), "[CONVERTED] [UNKNOWN]".to_owned()),
        ]
    );

    for (name, template, needle) in [
        ("X-Foo", "[CRLF]", "header X-Foo would contain a line break"),
        ("X-Foo", "v=[LF]", "header X-Foo would contain a line break"),
        (
            "X-Bar",
            "[NUL]",
            "header X-Bar would contain a control character",
        ),
        (
            "X-Bar",
            "[DEL]",
            "header X-Bar would contain a control character",
        ),
        ("X-Lit", "a\r\nb", "header X-Lit would contain a line break"),
    ] {
        let err = T::json("")
            .header(name, template)
            .render(tags.clone())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTemplate);
        assert_eq!(err.field.as_deref(), Some("headers"));
        assert!(err.message.starts_with(needle), "{}", err.message);
    }
    let err = T::json("")
        .header("X-Foo", "[CRLF]")
        .render(tags.clone())
        .unwrap_err();
    assert!(err.message.contains("[CRLF]"), "{}", err.message);

    for name in ["", "X Foo", "X-[NAME]", "X:Foo", "Zoë", "X-Foo\r\n"] {
        assert_invalid_template(
            T::json("").header(name, "v").render(tags.clone()),
            "is not a valid header name",
        );
    }
}

#[test]
fn content_type_defaults_and_header_override() {
    let r = T::json("{}").render(Vec::new()).unwrap();
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let r = T::form("a=1").render(Vec::new()).unwrap();
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    let r = T::json("{}")
        .header("content-type", "application/vnd.crm+json; charset=[CS]")
        .render(some_tags(&[("CS", "utf-8")]))
        .unwrap();
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/vnd.crm+json; charset=utf-8")
    );
    assert_eq!(r.headers.len(), 1);
    for body in ["", "  \n"] {
        let r = T::json(body)
            .header("Content-Type", "text/plain")
            .render(Vec::new())
            .unwrap();
        assert!(r.body.is_empty());
        assert_eq!(r.content_type, None);
    }
    let r = T::form("").render(Vec::new()).unwrap();
    assert!(r.body.is_empty());
    assert_eq!(r.content_type, None);
}

#[test]
fn every_method() {
    for (given, expected) in [
        ("GET", "GET"),
        ("POST", "POST"),
        ("PUT", "PUT"),
        ("PATCH", "PATCH"),
        ("DELETE", "DELETE"),
        ("post", "POST"),
        (" patch ", "PATCH"),
        ("Delete", "DELETE"),
    ] {
        let mut t = T::json("{}");
        t.method = given;
        assert_eq!(t.render(Vec::new()).unwrap().method, expected);
    }
    for given in [
        "HEAD", "OPTIONS", "CONNECT", "TRACE", "", "GE T", "[METHOD]",
    ] {
        let mut t = T::json("{}");
        t.method = given;
        let err = t.render(some_tags(&[("METHOD", "GET")])).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTemplate, "{given}");
        assert_eq!(err.field.as_deref(), Some("method"));
    }
}

#[test]
fn form_body_from_a_json_object_template() {
    let template = r#"{
        "call_id": "[CALL_ID]",
        "revenue": [REVENUE_PAID_OUT],
        "converted": [CONVERTED],
        "note": "a b&c=d+e",
        "none": null,
        "empty": "",
        "raw": "[PAYOUT]",
        "tags": {"source": "[UTM_SOURCE]", "geo": {"state": "[CALLER_STATE]"}},
        "list": ["x", 2, true, {"k": "v"}, []],
        "blank": {},
        "odd key=": "v"
    }"#;
    let tags = vec![
        tag("CALL_ID", Some("call_1")),
        tag("REVENUE_PAID_OUT", Some("35.00")),
        tag("CONVERTED", Some("true")),
        tag("UTM_SOURCE", Some("google_ads")),
        tag("CALLER_STATE", Some("CA")),
        tag("PAYOUT", None),
    ];
    let r = T::form(template).render(tags).unwrap();
    assert_eq!(
        body_text(&r),
        "call_id=call_1&revenue=35.00&converted=true&note=a+b%26c%3Dd%2Be&none=&empty=\
         &raw=%5BPAYOUT%5D&tags[source]=google_ads&tags[geo][state]=CA\
         &list[]=x&list[]=2&list[]=true&list[3][k]=v&odd+key%3D=v"
    );
    assert_eq!(
        form_fields(&r),
        [
            ("call_id", "call_1"),
            ("revenue", "35.00"),
            ("converted", "true"),
            ("note", "a b&c=d+e"),
            ("none", ""),
            ("empty", ""),
            ("raw", "[PAYOUT]"),
            ("tags[source]", "google_ads"),
            ("tags[geo][state]", "CA"),
            ("list[]", "x"),
            ("list[]", "2"),
            ("list[]", "true"),
            ("list[3][k]", "v"),
            ("odd key=", "v"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
}

#[test]
fn seed_003_template_as_a_form_body() {
    let r = T::form(SEED_003_TEMPLATE).render(seed_003_tags()).unwrap();
    assert_eq!(
        body_text(&r),
        "call_id=call_abc123def456&caller=%2B13105559876&campaign=Medicare+Leads+Q1&duration=145\
         &converted=true&revenue=35.00&tags[source]=google_ads&tags[state]=CA"
    );
}

#[test]
fn form_body_from_a_literal_template() {
    let tags = vec![
        tag("CALL_ID", Some("call 1&x=y")),
        tag("NAME", Some("Zoë 😀 +1")),
        tag("CONVERTED", None),
        tag("E", Some("")),
    ];
    let r = T::form("call_id=[CALL_ID]&name=[NAME]&c=[CONVERTED]&u=[UNKNOWN]&e=[E]&fixed=1")
        .render(tags)
        .unwrap();
    assert_eq!(
        body_text(&r),
        "call_id=call+1%26x%3Dy&name=Zo%C3%AB+%F0%9F%98%80+%2B1&c=[CONVERTED]&u=[UNKNOWN]&e=&fixed=1"
    );
    assert_eq!(
        form_fields(&r),
        [
            ("call_id", "call 1&x=y"),
            ("name", "Zoë 😀 +1"),
            ("c", "[CONVERTED]"),
            ("u", "[UNKNOWN]"),
            ("e", ""),
            ("fixed", "1"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[test]
fn form_templates_that_look_like_json_must_be_objects() {
    assert_invalid_template(
        T::form(r#"{"a": "[A]""#).render(some_tags(&[("A", "1")])),
        "not valid JSON",
    );
    // An array template is a literal form string, not JSON.
    let r = T::form("[A]").render(some_tags(&[("A", "a b")])).unwrap();
    assert_eq!(body_text(&r), "a+b");
}

#[test]
fn placeholder_names_in_order_without_duplicates() {
    assert_eq!(
        placeholders("[B] [A] [B] [[C]] [lower] [1X] [X1_] [D [E]x] []"),
        ["B", "A", "C", "X1_", "E"]
    );
    assert_eq!(placeholders(SEED_003_TEMPLATE).len(), 8);
    assert!(placeholders("no placeholders").is_empty());
    assert!(placeholders("[").is_empty());
    assert_eq!(placeholders("[A][A][Z9]"), ["A", "Z9"]);
}

#[test]
fn first_listed_tag_wins_and_names_are_case_sensitive() {
    let tags = vec![
        tag("A", Some("first")),
        tag("A", Some("second")),
        tag("b", Some("lower")),
    ];
    let r = T::json(r#"{"a": "[A]", "b": "[B]"}"#).render(tags).unwrap();
    assert_eq!(body_text(&r), r#"{"a": "first", "b": "[B]"}"#);
}

/// Arbitrary strings, biased toward the characters that break payloads.
fn arb_value() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '\r', '\n', '"', '\\', '[', ']', '&', '=', '+', '%', '#', '?', '/', ' ', '\t', '\u{0}',
        '\u{7f}', '\u{85}', '\u{2028}', '<', '😀', 'é', 'A', '0',
    ]);
    prop_oneof![
        any::<String>(),
        prop::collection::vec(prop_oneof![any::<char>(), special], 0..24)
            .prop_map(|chars| chars.into_iter().collect()),
        "-?[0-9]{1,4}(\\.[0-9]{0,2})?",
        prop::sample::select(vec!["true", "false", "null", "", "[V]", "[OTHER]"])
            .prop_map(str::to_owned),
    ]
}

fn header_value_ok(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() && c != '\t')
}

proptest! {
    #[test]
    fn json_values_round_trip(value in arb_value()) {
        let r = T::json(r#"{"s": "<[V]>", "alone": [V], "list": [[V], "[V]"]}"#)
            .render(vec![tag("V", Some(&value))])
            .unwrap();
        let body = body_json(&r);
        prop_assert_eq!(body["s"].as_str().unwrap(), format!("<{value}>"));
        prop_assert_eq!(body["list"][1].as_str().unwrap(), value.as_str());
        let alone = &body["alone"];
        if crate::json::is_json_number(&value) {
            prop_assert_eq!(alone.as_number().unwrap().to_string(), value.clone());
        } else if value == "true" || value == "false" {
            prop_assert_eq!(alone.as_bool().unwrap().to_string(), value.clone());
        } else {
            prop_assert_eq!(alone.as_str().unwrap(), value.as_str());
        }
        prop_assert_eq!(&body["list"][0], alone);
    }

    #[test]
    fn json_numbers_stay_numbers(value in "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?") {
        let r = T::json("[[V]]").render(vec![tag("V", Some(&value))]).unwrap();
        prop_assert_eq!(body_text(&r), format!("[{value}]"));
        prop_assert!(body_json(&r)[0].is_number());
    }

    #[test]
    fn form_values_round_trip(value in arb_value()) {
        let r = T::form("a=[V]&b=1").render(vec![tag("V", Some(&value))]).unwrap();
        let expected = vec![("a".to_owned(), value.clone()), ("b".to_owned(), "1".to_owned())];
        prop_assert_eq!(form_fields(&r), expected);
        let r = T::form(r#"{"a": "[V]", "n": {"b": [V]}}"#).render(vec![tag("V", Some(&value))]).unwrap();
        let fields = form_fields(&r);
        prop_assert_eq!(&fields[0], &("a".to_owned(), value.clone()));
        prop_assert_eq!(&fields[1], &("n[b]".to_owned(), value.clone()));
    }

    #[test]
    fn url_query_values_round_trip(value in arb_value(), path in arb_value()) {
        let r = T::url("https://example.com/base/[P]/end?v=[V]&w=2#[V]")
            .render(vec![tag("V", Some(&value)), tag("P", Some(&path))])
            .unwrap();
        let expected = vec![("v".to_owned(), value.clone()), ("w".to_owned(), "2".to_owned())];
        prop_assert_eq!(query_pairs(&r.url), expected);
        let rest = r.url.strip_prefix("https://example.com/base/").unwrap();
        let (segment, _) = rest.split_once("/end?").unwrap();
        prop_assert!(!segment.contains(['/', '?', '#']));
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8().unwrap();
        prop_assert_eq!(decoded.as_ref(), path.as_str());
        prop_assert!(r.url.bytes().all(|b| b.is_ascii_graphic()));
    }

    #[test]
    fn header_values_render_exactly_or_fail(value in arb_value()) {
        let result = T::json("")
            .header("X-Value", "[V]")
            .render(vec![tag("V", Some(&value))]);
        if header_value_ok(&value) {
            let r = result.unwrap();
            prop_assert_eq!(&r.headers[0].1, &value);
        } else {
            let err = result.unwrap_err();
            prop_assert_eq!(err.code, ErrorCode::InvalidTemplate);
            prop_assert!(err.message.starts_with("header X-Value would contain"));
        }
    }
}

#[test]
fn json_macro_sanity() {
    // The rendered body of a template built from a JSON value parses back to it.
    let template = json!({"a": "[A]", "n": 1}).to_string();
    let r = T::json(&template).render(some_tags(&[("A", "x")])).unwrap();
    assert_eq!(body_json(&r), json!({"a": "x", "n": 1}));
}
