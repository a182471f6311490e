//! The discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, built from the definitions in
//! [`super::schema`](mod@super::schema). `base_url` is the server's public origin (and any
//! path prefix) without `/scim/v2`, e.g. `https://gantry.example.com`;
//! a trailing `/` is ignored.

use super::schema::{
    ALL_SCHEMAS, AttrDef, AttrType, LIST_RESPONSE, RESOURCE_TYPE_SCHEMA, ResourceKind,
    SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA, SchemaDef,
};
use serde_json::{Map, Value, json};

fn root(base_url: &str) -> String {
    format!("{}/scim/v2", base_url.trim_end_matches('/'))
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

/// `/ServiceProviderConfig` (RFC 7643 §5): PATCH, filters and ETags yes;
/// bulk, sorting and password changes no; bearer tokens.
pub fn service_provider_config(
    base_url: &str,
    max_results: usize,
    max_payload_bytes: usize,
) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": max_payload_bytes},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A Gantry SCIM token, sent as `Authorization: Bearer <token>`.",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", root(base_url)),
        },
    })
}

fn resource_type_doc(base_url: &str, kind: ResourceKind) -> Value {
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
        .map(|ext| json!({"schema": ext.id, "required": false}))
        .collect();
    let mut doc = json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": format!("/{}", kind.endpoint()),
        "description": kind.core().description,
        "schema": kind.schema(),
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", root(base_url), kind.name()),
        },
    });
    if !extensions.is_empty()
        && let Some(object) = doc.as_object_mut()
    {
        object.insert("schemaExtensions".to_owned(), Value::Array(extensions));
    }
    doc
}

/// `/ResourceTypes` (RFC 7643 §6): User (with the enterprise extension,
/// optional) and Group.
pub fn resource_types(base_url: &str) -> Value {
    list(
        ResourceKind::ALL
            .iter()
            .map(|kind| resource_type_doc(base_url, *kind))
            .collect(),
    )
}

/// `/ResourceTypes/{name}`, the name ignoring ASCII case.
pub fn resource_type(base_url: &str, name: &str) -> Option<Value> {
    ResourceKind::ALL
        .into_iter()
        .find(|kind| kind.name().eq_ignore_ascii_case(name))
        .map(|kind| resource_type_doc(base_url, kind))
}

fn attr_doc(def: &AttrDef) -> Value {
    let mut doc = Map::new();
    doc.insert("name".into(), def.name.into());
    doc.insert("type".into(), def.ty.as_str().into());
    doc.insert("multiValued".into(), def.multi_valued.into());
    doc.insert("description".into(), def.description.into());
    doc.insert("required".into(), def.required.into());
    doc.insert("caseExact".into(), def.case_exact.into());
    doc.insert("mutability".into(), def.mutability.as_str().into());
    doc.insert("returned".into(), def.returned.as_str().into());
    doc.insert("uniqueness".into(), def.uniqueness.as_str().into());
    if !def.canonical_values.is_empty() {
        doc.insert("canonicalValues".into(), def.canonical_values.into());
    }
    if def.ty == AttrType::Reference {
        doc.insert("referenceTypes".into(), def.reference_types.into());
    }
    if def.ty == AttrType::Complex {
        let subs: Vec<Value> = def.sub_attributes.iter().map(attr_doc).collect();
        doc.insert("subAttributes".into(), subs.into());
    }
    Value::Object(doc)
}

fn schema_doc(base_url: &str, schema: &SchemaDef) -> Value {
    let attributes: Vec<Value> = schema.attributes.iter().map(attr_doc).collect();
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": attributes,
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", root(base_url), schema.id),
        },
    })
}

/// `/Schemas` (RFC 7643 §7): User, Group and the enterprise User extension.
pub fn schemas_document(base_url: &str) -> Value {
    list(
        ALL_SCHEMAS
            .iter()
            .map(|schema| schema_doc(base_url, schema))
            .collect(),
    )
}

/// `/Schemas/{urn}`, the URN ignoring ASCII case.
pub fn schema(base_url: &str, urn: &str) -> Option<Value> {
    ALL_SCHEMAS
        .iter()
        .find(|schema| schema.id.eq_ignore_ascii_case(urn))
        .map(|schema| schema_doc(base_url, schema))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

    const BASE: &str = "https://gantry.example.com/";

    fn check_attribute(attr: &Value, nested: bool) {
        let name = attr["name"].as_str().unwrap_or_default();
        for (field, check) in [
            ("name", Value::is_string as fn(&Value) -> bool),
            ("type", Value::is_string),
            ("multiValued", Value::is_boolean),
            ("description", Value::is_string),
            ("required", Value::is_boolean),
            ("caseExact", Value::is_boolean),
            ("mutability", Value::is_string),
            ("returned", Value::is_string),
            ("uniqueness", Value::is_string),
        ] {
            assert!(
                attr.get(field).is_some_and(check),
                "{name}: {field} in {attr}"
            );
        }
        let ty = attr["type"].as_str().unwrap();
        assert!(
            [
                "string",
                "boolean",
                "decimal",
                "integer",
                "dateTime",
                "reference",
                "complex"
            ]
            .contains(&ty),
            "{name}: {ty}"
        );
        assert!(
            ["readOnly", "readWrite", "immutable", "writeOnly"]
                .contains(&attr["mutability"].as_str().unwrap())
        );
        assert!(
            ["always", "never", "default", "request"].contains(&attr["returned"].as_str().unwrap())
        );
        assert!(["none", "server", "global"].contains(&attr["uniqueness"].as_str().unwrap()));
        if ty == "reference" {
            assert!(
                attr["referenceTypes"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty()),
                "{name}"
            );
        }
        if ty == "complex" {
            assert!(!nested, "{name}: sub-attributes are not complex");
            let subs = attr["subAttributes"].as_array().unwrap();
            assert!(!subs.is_empty(), "{name}");
            for sub in subs {
                check_attribute(sub, true);
            }
        } else {
            assert!(attr.get("subAttributes").is_none(), "{name}");
        }
    }

    fn find<'a>(attrs: &'a Value, name: &str) -> &'a Value {
        attrs
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    #[test]
    fn schemas_document_is_valid_rfc_7643_section_7() {
        let doc = schemas_document(BASE);
        assert_eq!(doc["schemas"], json!([LIST_RESPONSE]));
        assert_eq!(doc["totalResults"], 3);
        let resources = doc["Resources"].as_array().unwrap();
        let ids: Vec<&str> = resources
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA]);
        for resource in resources {
            assert_eq!(resource["schemas"], json!([SCHEMA_SCHEMA]));
            assert!(resource["name"].is_string() && resource["description"].is_string());
            assert_eq!(resource["meta"]["resourceType"], "Schema");
            assert_eq!(
                resource["meta"]["location"],
                format!(
                    "https://gantry.example.com/scim/v2/Schemas/{}",
                    resource["id"].as_str().unwrap()
                )
            );
            let attrs = resource["attributes"].as_array().unwrap();
            assert!(!attrs.is_empty());
            for attr in attrs {
                check_attribute(attr, false);
            }
            assert_eq!(
                schema(BASE, resource["id"].as_str().unwrap()).as_ref(),
                Some(resource)
            );
        }
        let user = &resources[0]["attributes"];
        let user_name = find(user, "userName");
        assert_eq!(
            (
                &user_name["required"],
                &user_name["uniqueness"],
                &user_name["caseExact"]
            ),
            (&json!(true), &json!("server"), &json!(false))
        );
        let emails = find(user, "emails");
        assert_eq!(emails["multiValued"], true);
        assert_eq!(
            find(&emails["subAttributes"], "type")["canonicalValues"],
            json!(["work", "home", "other"])
        );
        assert_eq!(find(user, "groups")["mutability"], "readOnly");
        assert!(
            user.as_array()
                .unwrap()
                .iter()
                .all(|a| a["name"] != "password")
        );
        let members = find(&resources[1]["attributes"], "members");
        assert_eq!(
            find(&members["subAttributes"], "value")["mutability"],
            "immutable"
        );
        let manager = find(&resources[2]["attributes"], "manager");
        assert_eq!(
            find(&manager["subAttributes"], "displayName")["mutability"],
            "readOnly"
        );
        assert_eq!(
            schema(BASE, "urn:ietf:params:scim:schemas:core:2.0:user").unwrap()["id"],
            USER_SCHEMA
        );
        assert_eq!(schema(BASE, "urn:nope"), None);
    }

    #[test]
    fn resource_types_list_users_with_the_extension_and_groups() {
        let doc = resource_types("https://gantry.example.com");
        assert_eq!(doc["totalResults"], 2);
        assert_eq!(
            doc["Resources"][0],
            json!({
                "schemas": [RESOURCE_TYPE_SCHEMA],
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "description": "User Account",
                "schema": USER_SCHEMA,
                "schemaExtensions": [{"schema": ENTERPRISE_USER_SCHEMA, "required": false}],
                "meta": {
                    "resourceType": "ResourceType",
                    "location": "https://gantry.example.com/scim/v2/ResourceTypes/User"
                }
            })
        );
        let group = &doc["Resources"][1];
        assert_eq!(
            (&group["endpoint"], &group["schema"]),
            (&json!("/Groups"), &json!(GROUP_SCHEMA))
        );
        assert!(group.get("schemaExtensions").is_none());
        assert_eq!(resource_type(BASE, "group").as_ref(), Some(group));
        assert_eq!(resource_type(BASE, "Widget"), None);
    }

    #[test]
    fn service_provider_config_says_what_is_supported() {
        let doc = service_provider_config(BASE, 200, 1_048_576);
        assert_eq!(doc["schemas"], json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
        assert_eq!(doc["patch"]["supported"], true);
        assert_eq!(doc["bulk"]["supported"], false);
        assert_eq!(doc["bulk"]["maxPayloadSize"], 1_048_576);
        assert_eq!(doc["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(doc["changePassword"]["supported"], false);
        assert_eq!(doc["sort"]["supported"], false);
        assert_eq!(doc["etag"]["supported"], true);
        let schemes = doc["authenticationSchemes"].as_array().unwrap();
        assert_eq!(schemes.len(), 1);
        assert_eq!(
            (
                &schemes[0]["type"],
                &schemes[0]["name"],
                &schemes[0]["primary"]
            ),
            (
                &json!("oauthbearertoken"),
                &json!("Bearer token"),
                &json!(true)
            )
        );
        assert!(schemes[0]["description"].is_string());
        assert_eq!(
            doc["meta"]["location"],
            "https://gantry.example.com/scim/v2/ServiceProviderConfig"
        );
    }
}
