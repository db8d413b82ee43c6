//! `worker/openapi.json` says, field by field, what the shared wire types
//! serialise: the same members, the same required ones, the same JSON types.
//!
//! The document stays hand-written (it carries the prose pool operators and
//! JDC authors read); this test holds it to the Rust types in `dmr-shared`
//! through their `schemars` schemas (the `schema` feature), so a field added
//! to, removed from or renamed in a type, or one whose required-ness or type
//! changes, fails here until the document follows.

use std::collections::{BTreeMap, BTreeSet};

use dmr_shared::agents::{AgentCount, JdcAddress, PoolAgents};
use dmr_shared::{Accepted, JdcSummary, Miner, Problem, Report, StoredReport, VendorShare};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::{json, Value};

/// Every wire type the document describes, by its component name in
/// `#/components/schemas` (which is the Rust type's name, so nested types
/// match up). A type added to the API is added here: one line, under the
/// same name in the document.
fn wire_types() -> Vec<(&'static str, Schema)> {
    vec![
        component::<Report>("Report"),
        component::<Miner>("Miner"),
        component::<StoredReport>("StoredReport"),
        component::<JdcSummary>("JdcSummary"),
        component::<VendorShare>("VendorShare"),
        component::<Accepted>("Accepted"),
        component::<Problem>("Problem"),
        component::<PoolAgents>("PoolAgents"),
        component::<AgentCount>("AgentCount"),
        component::<JdcAddress>("JdcAddress"),
    ]
}

/// Members the document marks required although the Rust type may leave
/// them out, each with the reason the answers always carry them.
const REQUIRED_IN_ANSWERS: &[(&str, &str, &str)] = &[(
    "JdcSummary",
    "identity",
    "left out only in the KV metadata copy; the Worker sets it from the key in every answer",
)];

/// The schema of `T` as it serialises (what the Worker writes), in the
/// JSON Schema dialect of OpenAPI 3.1.
fn component<T: JsonSchema>(name: &'static str) -> (&'static str, Schema) {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    (name, generator.into_root_schema_for::<T>())
}

fn document() -> Value {
    let path = dmr_tests::repo_root().join("worker/openapi.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// What the comparison looks at in an object schema.
#[derive(Debug, Default, PartialEq)]
struct Shape {
    /// Member name to its JSON types (`string`, `null`, `array of Miner`,
    /// or the name of a component for a nested object).
    properties: BTreeMap<String, BTreeSet<String>>,
    required: BTreeSet<String>,
}

/// The schema a local `$ref` (`#/components/schemas/X`, `#/$defs/X`) points
/// to within `root`.
fn resolve<'a>(root: &'a Value, reference: &str) -> Result<&'a Value, String> {
    reference
        .strip_prefix('#')
        .and_then(|pointer| root.pointer(pointer))
        .ok_or_else(|| format!("{reference} points nowhere"))
}

/// The last segment of a `$ref`: the component's (and the type's) name.
fn ref_name(reference: &str) -> &str {
    reference.rsplit('/').next().unwrap_or(reference)
}

fn is_object(schema: &Value) -> bool {
    schema["type"] == "object"
        || schema.get("properties").is_some()
        || schema.get("allOf").is_some()
}

/// The members of an object schema, following `$ref` and merging `allOf`.
fn shape(root: &Value, schema: &Value) -> Result<Shape, String> {
    if let Some(reference) = schema["$ref"].as_str() {
        return shape(root, resolve(root, reference)?);
    }
    let mut out = Shape::default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let part = shape(root, part)?;
        out.properties.extend(part.properties);
        out.required.extend(part.required);
    }
    for (name, member) in schema["properties"].as_object().into_iter().flatten() {
        out.properties.insert(name.clone(), types(root, member)?);
    }
    for name in schema["required"].as_array().into_iter().flatten() {
        out.required
            .insert(name.as_str().unwrap_or_default().to_owned());
    }
    Ok(out)
}

/// The JSON types a member schema allows.
fn types(root: &Value, schema: &Value) -> Result<BTreeSet<String>, String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let target = resolve(root, reference)?;
        return if is_object(target) {
            Ok(BTreeSet::from([ref_name(reference).to_owned()]))
        } else {
            types(root, target)
        };
    }
    let mut out = BTreeSet::new();
    let declared = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for t in declared {
        if t == "array" {
            let items = types(root, &schema["items"])?;
            let items: Vec<&str> = items.iter().map(String::as_str).collect();
            out.insert(format!("array of {}", items.join(" or ")));
        } else {
            out.insert(t.to_owned());
        }
    }
    if out.is_empty() {
        if let Some(value) = schema.get("const") {
            out.insert(json_type(value).to_owned());
        }
        for value in schema["enum"].as_array().into_iter().flatten() {
            out.insert(json_type(value).to_owned());
        }
    }
    for key in ["anyOf", "oneOf"] {
        for alternative in schema[key].as_array().into_iter().flatten() {
            out.extend(types(root, alternative)?);
        }
    }
    if out.is_empty() {
        return Err(format!("no JSON type in {schema}"));
    }
    Ok(out)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every way `doc` disagrees with `wire`: empty when they match.
fn differences(wire: &[(&str, Schema)], doc: &Value) -> Vec<String> {
    let components = &doc["components"]["schemas"];
    let listed: BTreeSet<&str> = wire.iter().map(|(name, _)| *name).collect();
    let mut found = Vec::new();
    for (name, schema) in wire {
        let schema = schema.as_value();
        if schema["title"] != *name {
            found.push(format!(
                "{name}: components are named after their type, this one is {}",
                schema["title"]
            ));
        }
        let Some(documented) = components.get(*name) else {
            found.push(format!("{name}: the document has no such component"));
            continue;
        };
        match (shape(schema, schema), shape(doc, documented)) {
            (Ok(rust), Ok(described)) => {
                found.extend(compare(name, &rust, &described));
                // A nested object type is a component of its own, checked too.
                for nested in rust.properties.values().flatten() {
                    let nested = nested.trim_start_matches("array of ");
                    let primitive = ["string", "number", "integer", "boolean", "null", "object"];
                    if !primitive.contains(&nested) && !listed.contains(nested) {
                        found.push(format!(
                            "{name}: nests {nested}, which is not in wire_types()"
                        ));
                    }
                }
            }
            (Err(why), _) => found.push(format!("{name}: the type's schema: {why}")),
            (_, Err(why)) => found.push(format!("{name}: the document: {why}")),
        }
    }
    // Every object the document describes is backed by a type.
    for (name, documented) in components.as_object().into_iter().flatten() {
        if is_object(documented) && !listed.contains(name.as_str()) {
            found.push(format!(
                "{name}: documented, but no type in wire_types() backs it"
            ));
        }
    }
    found
}

/// The members of component `name` that differ between the type and the
/// document: present on one side only, of other JSON types, or required on
/// one side only.
fn compare(name: &str, rust: &Shape, described: &Shape) -> Vec<String> {
    let members: BTreeSet<&String> = rust
        .properties
        .keys()
        .chain(described.properties.keys())
        .chain(&described.required)
        .collect();
    let mut found = Vec::new();
    for member in members {
        let at = format!("{name}.{member}");
        let (t, d) = match (
            rust.properties.get(member),
            described.properties.get(member),
        ) {
            (Some(t), Some(d)) => (t, d),
            (Some(_), None) => {
                found.push(format!("{at}: in the type, not in the document"));
                continue;
            }
            (None, _) => {
                found.push(format!("{at}: in the document, not in the type"));
                continue;
            }
        };
        if t != d {
            found.push(format!(
                "{at}: the type serialises {t:?}, the document says {d:?}"
            ));
        }
        let excused = REQUIRED_IN_ANSWERS
            .iter()
            .any(|(c, m, _)| *c == name && m == member);
        match (
            rust.required.contains(member),
            described.required.contains(member),
        ) {
            (true, false) => found.push(format!(
                "{at}: always in the type, optional in the document"
            )),
            (false, true) if !excused => found.push(format!(
                "{at}: optional in the type, required in the document"
            )),
            _ => {}
        }
    }
    found
}

#[test]
fn the_document_describes_every_wire_type_field_by_field() {
    let found = differences(&wire_types(), &document());
    assert!(
        found.is_empty(),
        "worker/openapi.json and the shared types disagree:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_exception_names_a_real_member() {
    let wire = wire_types();
    for (component, member, why) in REQUIRED_IN_ANSWERS {
        let (_, schema) = wire
            .iter()
            .find(|(name, _)| name == component)
            .unwrap_or_else(|| panic!("{component} is not in wire_types()"));
        let rust = shape(schema.as_value(), schema.as_value()).unwrap();
        assert!(
            rust.properties.contains_key(*member) && !rust.required.contains(*member),
            "{component}.{member} ({why}) is not an optional member of the type any more"
        );
    }
}

/// A report type that gained a field the document does not know.
#[derive(serde::Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct Report2 {
    schema_version: u64,
    jdc_user_identity: String,
    timestamp: String,
    miners: Vec<Miner>,
    firmware_channel: String,
}

#[test]
fn a_field_added_to_a_type_alone_fails() {
    let (_, grown) = component::<Report2>("Report");
    let mut wire = wire_types();
    wire.retain(|(name, _)| *name != "Report");
    // Named as the real type, as if `Report` itself had grown.
    let mut grown = grown.to_value();
    grown["title"] = json!("Report");
    wire.push(("Report", Schema::try_from(grown).unwrap()));
    assert_eq!(
        differences(&wire, &document()),
        ["Report.firmwareChannel: in the type, not in the document"]
    );
}

#[test]
fn a_doctored_document_fails_with_each_difference_named() {
    type Edit = fn(&mut Value);
    let cases: &[(&str, Edit, &[&str])] = &[
        (
            "a member removed",
            |d| {
                d["components"]["schemas"]["Miner"]["properties"]
                    .as_object_mut()
                    .unwrap()
                    .remove("deviceId");
            },
            &["Miner.deviceId: in the type, not in the document"],
        ),
        (
            "a member added",
            |d| {
                d["components"]["schemas"]["Accepted"]["properties"]["queued"] =
                    json!({"type": "boolean"})
            },
            &["Accepted.queued: in the document, not in the type"],
        ),
        (
            "a member renamed",
            |d| {
                let props = d["components"]["schemas"]["VendorShare"]["properties"]
                    .as_object_mut()
                    .unwrap();
                let member = props.remove("hashRate").unwrap();
                props.insert("hashrate".into(), member);
            },
            &[
                "VendorShare.hashRate: in the type, not in the document",
                "VendorShare.hashrate: in the document, not in the type",
            ],
        ),
        (
            "required turned optional",
            |d| {
                d["components"]["schemas"]["Report"]["required"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|m| m != "miners");
            },
            // StoredReport takes Report's members through allOf.
            &[
                "Report.miners: always in the type, optional in the document",
                "StoredReport.miners: always in the type, optional in the document",
            ],
        ),
        (
            "optional turned required",
            |d| {
                d["components"]["schemas"]["Problem"]["required"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!("field"));
            },
            &["Problem.field: optional in the type, required in the document"],
        ),
        (
            "a type changed",
            |d| {
                d["components"]["schemas"]["JdcSummary"]["properties"]["hashRate"]["type"] =
                    json!("integer")
            },
            &[
                r#"JdcSummary.hashRate: the type serialises {"number"}, the document says {"integer"}"#,
            ],
        ),
        (
            "null no longer allowed",
            |d| {
                d["components"]["schemas"]["StoredReport"]["allOf"][1]["properties"]["userAgent"]
                    ["type"] = json!("string")
            },
            &[
                r#"StoredReport.userAgent: the type serialises {"null", "string"}, the document says {"string"}"#,
            ],
        ),
        (
            "an object undocumented",
            |d| {
                d["components"]["schemas"]["JdcSummary"]["properties"]["vendors"]["items"] =
                    json!({"type": "object"})
            },
            &[
                r#"JdcSummary.vendors: the type serialises {"array of VendorShare"}, the document says {"array of object"}"#,
            ],
        ),
        (
            "a component no type backs",
            |d| d["components"]["schemas"]["Agent"] = json!({"type": "object", "properties": {}}),
            &["Agent: documented, but no type in wire_types() backs it"],
        ),
        (
            "a component missing",
            |d| {
                d["components"]["schemas"]
                    .as_object_mut()
                    .unwrap()
                    .remove("Accepted");
            },
            &["Accepted: the document has no such component"],
        ),
    ];
    let wire = wire_types();
    for (what, edit, expected) in cases {
        let mut doc = document();
        edit(&mut doc);
        assert_eq!(differences(&wire, &doc), *expected, "{what}");
    }
}
