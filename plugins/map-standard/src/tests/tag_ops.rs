//! Tag operations: their forms, order, key normalization, values, the `tags` wrapper and its
//! conflicts, and the "at least one" rule.

use super::*;

fn ops_of(kind: WebhookKind, body: &str) -> Vec<TagOp> {
    match post_json(kind, body) {
        Ok(command) => command.tag_ops,
        Err(error) => panic!("expected a command, got {error:#?}"),
    }
}

#[track_caller]
fn assert_ops(actual: Vec<TagOp>, expected: Vec<TagOp>) {
    assert_eq!(format!("{actual:?}"), format!("{expected:?}"));
}

#[test]
fn update_tags_needs_an_operation() {
    for body in [
        r#"{"call_log_id": "a"}"#,
        r#"{"call_log_id": "a", "add": {}}"#,
        r#"{"call_log_id": "a", "remove": []}"#,
        r#"{"call_log_id": "a", "add": null, "remove": ", ,"}"#,
        r#"{"call_log_id": "a", "lead_quality": "high"}"#,
    ] {
        assert_error(
            post_json(UpdateTags, body),
            ErrorCode::MissingParameter,
            None,
            "At least one of add or remove must be provided",
        );
    }
}

#[test]
fn operations_keep_request_order() {
    assert_ops(
        ops_of(
            UpdateTags,
            r#"{"remove": "old", "call_log_id": "a", "add": {"b": "2", "a": "1"}}"#,
        ),
        vec![remove("old"), add("b", "2"), add("a", "1")],
    );
    assert_ops(
        ops_of(
            UpdateTags,
            r#"{"call_log_id": "a", "add": [{"x": "1"}, {"y": "2", "z": "3"}, {"x": "4"}]}"#,
        ),
        vec![add("x", "1"), add("y", "2"), add("z", "3"), add("x", "4")],
    );
}

#[test]
fn remove_forms() {
    assert_ops(
        ops_of(
            UpdateTags,
            r#"{"call_log_id": "a", "remove": "pending_review"}"#,
        ),
        vec![remove("pending_review")],
    );
    assert_ops(
        ops_of(
            UpdateTags,
            r#"{"call_log_id": "a", "remove": ["a, b", "Needs Callback", 42, ""]}"#,
        ),
        vec![
            remove("a"),
            remove("b"),
            remove("needs_callback"),
            remove("42"),
        ],
    );
    assert_error(
        post_json(UpdateTags, r#"{"call_log_id": "a", "remove": {"k": true}}"#),
        ErrorCode::InvalidParameter,
        Some("remove"),
        "remove must be a tag key or an array of tag keys such as [\"pending_review\"], got an \
         object",
    );
    assert_error(
        post_json(UpdateTags, r#"{"call_log_id": "a", "remove": ["a", null]}"#),
        ErrorCode::InvalidParameter,
        Some("remove"),
        "remove[1] must be a tag key given as a string, got null",
    );
}

#[test]
fn keys_are_normalized() {
    assert_ops(
        ops_of(
            UpdateTags,
            r#"{"call_log_id": "a", "add": {"Lead Quality": "High", "utm.source": "g", "__x__": "1"}}"#,
        ),
        vec![
            add("lead_quality", "High"),
            add("utm_source", "g"),
            add("x", "1"),
        ],
    );
    assert_error(
        post_json(UpdateTags, r#"{"call_log_id": "a", "add": {"!!!": "x"}}"#),
        ErrorCode::InvalidParameter,
        Some("add"),
        "Tag key \"!!!\" under add has no letter or digit; tag keys are made of letters, digits \
         and _",
    );
    assert_error(
        post_json(
            UpdateTags,
            r#"{"call_log_id": "a", "remove": ["ok", "--"]}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("remove"),
        "Tag key \"--\" under remove has no letter or digit; tag keys are made of letters, \
         digits and _",
    );
}

#[test]
fn values_are_text() {
    assert_ops(
        ops_of(
            UpdateTags,
            r#"{"call_log_id": "a", "add": {"score": 5, "price": 25.50, "vip": true, "meta": {"a": [1, 2.0]}, "list": ["x", null], "empty": ""}}"#,
        ),
        vec![
            add("score", "5"),
            add("price", "25.50"),
            add("vip", "true"),
            add("meta", r#"{"a":[1,2.0]}"#),
            add("list", r#"["x",null]"#),
            add("empty", ""),
        ],
    );
    assert_error(
        post_json(UpdateTags, r#"{"call_log_id": "a", "add": {"gone": null}}"#),
        ErrorCode::InvalidParameter,
        Some("add"),
        "Tag \"gone\" under add has a null value; give it a string value, or list its key under \
         remove to delete it",
    );
}

#[test]
fn add_of_the_wrong_shape() {
    assert_error(
        post_json(
            UpdateTags,
            r#"{"call_log_id": "a", "add": "lead_quality=high"}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("add"),
        "add must be an object of tag keys and values such as {\"lead_quality\": \"high\"}, or \
         an array of such objects, got \"lead_quality=high\"",
    );
    assert_error(
        post_json(
            UpdateTags,
            r#"{"call_log_id": "a", "add": [{"a": "1"}, "b"]}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("add"),
        "add[1] must be an object such as {\"lead_quality\": \"high\"}, got \"b\"",
    );
    assert_error(
        get(UpdateTags, "call_log_id=a&add=lead_quality:high"),
        ErrorCode::InvalidParameter,
        Some("add"),
        "add must be sent as key=value pairs in brackets, such as add[lead_quality]=high, got \
         \"lead_quality:high\"",
    );
    assert_error(
        post_json(UpdateTags, r#"{"call_log_id": "a", "tags": "x"}"#),
        ErrorCode::InvalidParameter,
        Some("tags"),
        "tags must be an object of tag keys and values such as {\"lead_quality\": \"high\"}, or \
         {\"add\": {…}, \"remove\": […]}, got \"x\"",
    );
}

#[test]
fn the_tags_object() {
    // Plain: the older form, meaning add; `add` among other keys is a tag named add.
    assert_ops(
        ops_of(
            UpdateTags,
            r#"{"call_log_id": "a", "tags": {"add": "x", "source": "y"}}"#,
        ),
        vec![add("add", "x"), add("source", "y")],
    );
    // Only add/remove: operations.
    assert_ops(
        ops_of(
            UpdateTags,
            r#"{"call_log_id": "a", "tags": {"remove": ["r"], "add": [{"k": "v"}]}}"#,
        ),
        vec![remove("r"), add("k", "v")],
    );
    assert_ops(
        ops_of(UpdateTags, r#"{"call_log_id": "a", "tags": [{"k": "v"}]}"#),
        vec![add("k", "v")],
    );
    assert_ops(
        get(UpdateTags, "call_id=a&tags[add][k]=v&tags[remove]=r,s")
            .unwrap()
            .tag_ops,
        vec![add("k", "v"), remove("r"), remove("s")],
    );
}

#[test]
fn top_level_and_wrapped_operations_merge() {
    for kind in [UpdateTags, UpdateFields] {
        assert_ops(
            ops_of(
                kind,
                r#"{"call_log_id": "a", "add": {"x": "1", "same": "v"}, "tags": {"add": {"y": "2", "same": "v"}, "remove": ["z"]}, "remove": "w"}"#,
            ),
            vec![
                add("x", "1"),
                add("same", "v"),
                add("y", "2"),
                add("same", "v"),
                remove("z"),
                remove("w"),
            ],
        );
    }
    assert_ops(
        ops_of(
            UpdateFields,
            r#"{"call_log_id": "a", "add": {"x": "1"}, "fields": {"add": {"y": "2"}, "remove": "q", "tags": {"t": "3"}}}"#,
        ),
        vec![add("x", "1"), add("y", "2"), remove("q"), add("t", "3")],
    );
}

#[test]
fn the_same_tag_added_on_both_sides_with_different_values() {
    for kind in [UpdateTags, UpdateFields] {
        assert_error(
            post_json(
                kind,
                r#"{"call_log_id": "a", "add": {"Lead": "high"}, "tags": {"add": {"lead": "low"}}}"#,
            ),
            ErrorCode::InvalidParameter,
            Some("tags.add"),
            "Tag lead is added with different values under add (\"high\") and under tags.add \
             (\"low\"); send it once",
        );
        assert_error(
            post_json(
                kind,
                r#"{"call_log_id": "a", "tags": {"lead": "low"}, "add": [{"lead": "high"}]}"#,
            ),
            ErrorCode::InvalidParameter,
            Some("add"),
            "Tag lead is added with different values under tags (\"low\") and under add \
             (\"high\"); send it once",
        );
    }
    assert_error(
        post_json(
            UpdateFields,
            r#"{"call_log_id": "a", "add": {"lead": "high"}, "fields": {"add": {"lead": "low"}}}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("fields.add"),
        "Tag lead is added with different values under add (\"high\") and under fields.add \
         (\"low\"); send it once",
    );
}

#[test]
fn update_tags_lists_ignored_fields() {
    let command = post_json(
        UpdateTags,
        r#"{"call_log_id": "a", "revenue": 5, "add": {"k": "v"}, "fields": {"x": 1}, "note": "hi"}"#,
    )
    .unwrap();
    assert_eq!(command.ignored_fields, ["revenue", "fields", "note"]);
}
