//! The SCIM schemas Gantry serves (RFC 7643 §4 and §8.7): the User and
//! Group core schemas and the enterprise User extension, as static
//! attribute definitions that validation, PATCH, projection, filter checks
//! and the discovery documents ([`super::discovery`]) all read.
//!
//! Deliberate differences from RFC 7643 §8.7's representation:
//! - `User.password` is not defined: Gantry never stores a credential
//!   (see [`super::normalize`]);
//! - `Group.displayName` is required and unique per server, because
//!   Gantry's role mappings name groups by it;
//! - `members.value`, `groups.value` and `manager.value` hold resource ids
//!   and compare case-exactly, as `id` does;
//! - `members.$ref` is read-only: the server derives it from `value`, so a
//!   client-sent one is dropped rather than stored;
//! - `members.display` is read-write: Entra ID and Okta send it, and it is
//!   kept as a label.
//!
//! The common attributes (`id`, `externalId`, `meta`, RFC 7643 §3.1) are
//! defined once in [`COMMON_ATTRIBUTES`] and are part of every resource
//! kind, but are not listed inside the schema documents, as in the RFC.

use super::eval::CaseExact;
use super::filter::AttrPath;

pub use super::discovery::{
    resource_type, resource_types, schema, schemas_document, service_provider_config,
};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Who may change an attribute (RFC 7643 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    /// Set once (on creation or when first added), never changed.
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute appears in responses (RFC 7643 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returned {
    /// Even when `excludedAttributes` names it or `attributes` does not.
    Always,
    Never,
    Default,
    /// Only when `attributes` names it.
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// How unique a value must be (RFC 7643 §7). The store enforces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute or sub-attribute definition (RFC 7643 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub description: &'static str,
    /// Suggested values, advertised but not enforced (the RFC leaves that
    /// to the server, and IdPs send their own).
    pub canonical_values: &'static [&'static str],
    /// For `reference` attributes: what they point at.
    pub reference_types: &'static [&'static str],
    /// For `complex` attributes. SCIM allows one level only.
    pub sub_attributes: &'static [AttrDef],
}

const fn attr(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty,
        multi_valued: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        description,
        canonical_values: &[],
        reference_types: &[],
        sub_attributes: &[],
    }
}

const fn string(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::String, description)
}

const fn boolean(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::Boolean, description)
}

const fn date_time(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::DateTime, description)
}

const fn reference(
    name: &'static str,
    types: &'static [&'static str],
    description: &'static str,
) -> AttrDef {
    let mut def = attr(name, AttrType::Reference, description);
    def.reference_types = types;
    def
}

const fn complex(
    name: &'static str,
    subs: &'static [AttrDef],
    description: &'static str,
) -> AttrDef {
    let mut def = attr(name, AttrType::Complex, description);
    def.sub_attributes = subs;
    def
}

impl AttrDef {
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    const fn read_only(mut self) -> Self {
        self.mutability = Mutability::ReadOnly;
        self
    }

    const fn immutable(mut self) -> Self {
        self.mutability = Mutability::Immutable;
        self
    }

    const fn always(mut self) -> Self {
        self.returned = Returned::Always;
        self
    }

    const fn unique(mut self) -> Self {
        self.uniqueness = Uniqueness::Server;
        self
    }

    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// The sub-attribute `name`, ignoring ASCII case.
    pub fn sub(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.sub_attributes, name)
    }

    pub fn is_complex(&self) -> bool {
        self.ty == AttrType::Complex
    }

    /// Never stored from a client: read-only, or a `$ref`, which the server
    /// derives from the id when it answers (a client may send one naming the
    /// same resource as `value`).
    pub fn is_read_only(&self) -> bool {
        self.mutability == Mutability::ReadOnly || self.name == "$ref"
    }
}

/// A schema: its URN, name and attributes (RFC 7643 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}

impl SchemaDef {
    /// The attribute `name`, ignoring ASCII case.
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.attributes, name)
    }
}

fn find(attrs: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// `id`, `externalId` and `meta`: part of every resource (RFC 7643 §3.1).
pub static COMMON_ATTRIBUTES: &[AttrDef] = &[
    string(
        "id",
        "Unique identifier for the resource, assigned by the service provider.",
    )
    .case_exact()
    .read_only()
    .always()
    .unique(),
    string(
        "externalId",
        "Identifier of the resource in the provisioning client.",
    )
    .case_exact(),
    complex(
        "meta",
        &[
            string("resourceType", "The name of the resource type.")
                .case_exact()
                .read_only(),
            date_time("created", "When the resource was added.").read_only(),
            date_time("lastModified", "When the resource was last changed.").read_only(),
            reference("location", &["uri"], "The URI of the resource.")
                .case_exact()
                .read_only(),
            string("version", "The resource's entity tag.")
                .case_exact()
                .read_only(),
        ],
        "Resource metadata.",
    )
    .read_only(),
];

const EMAIL_TYPES: &[&str] = &["work", "home", "other"];
const PHONE_TYPES: &[&str] = &["work", "home", "mobile", "fax", "pager", "other"];

pub static USER: SchemaDef = SchemaDef {
    id: USER_SCHEMA,
    name: "User",
    description: "User Account",
    attributes: &[
        string(
            "userName",
            "Unique identifier for the User, used to sign in.",
        )
        .required()
        .unique(),
        complex(
            "name",
            &[
                string("formatted", "The full name, formatted for display."),
                string("familyName", "The family name (last name)."),
                string("givenName", "The given name (first name)."),
                string("middleName", "The middle name(s)."),
                string("honorificPrefix", "Title or salutation, e.g. 'Ms.'."),
                string("honorificSuffix", "Suffix, e.g. 'III'."),
            ],
            "The components of the user's real name.",
        ),
        string("displayName", "The name of the User, suitable for display."),
        string("nickName", "The casual way to address the user."),
        reference(
            "profileUrl",
            &["external"],
            "A URI of the User's online profile.",
        ),
        string("title", "The user's title, such as 'Vice President'."),
        string(
            "userType",
            "The relationship to the organization, e.g. 'Employee'.",
        ),
        string("preferredLanguage", "Preferred written or spoken language."),
        string("locale", "Default location for localizing, e.g. 'en-US'."),
        string("timezone", "Time zone in the IANA database format."),
        boolean("active", "Whether the user may sign in."),
        complex(
            "emails",
            &[
                string("value", "The email address."),
                string("display", "A label for display."),
                string("type", "A label: work, home or other.").canonical(EMAIL_TYPES),
                boolean("primary", "Whether this is the preferred address."),
            ],
            "Email addresses.",
        )
        .multi(),
        complex(
            "phoneNumbers",
            &[
                string("value", "The phone number."),
                string("display", "A label for display."),
                string("type", "A label: work, home, mobile…").canonical(PHONE_TYPES),
                boolean("primary", "Whether this is the preferred number."),
            ],
            "Phone numbers.",
        )
        .multi(),
        complex(
            "addresses",
            &[
                string("formatted", "The full address, formatted for display."),
                string("streetAddress", "The street address."),
                string("locality", "City or locality."),
                string("region", "State or region."),
                string("postalCode", "Zip or postal code."),
                string("country", "Country, as an ISO 3166-1 alpha-2 code."),
                string("type", "A label: work, home or other.").canonical(EMAIL_TYPES),
                boolean("primary", "Whether this is the preferred address."),
            ],
            "Physical mailing addresses.",
        )
        .multi(),
        complex(
            "groups",
            &[
                string("value", "The id of the Group.")
                    .case_exact()
                    .read_only(),
                reference("$ref", &["User", "Group"], "The URI of the Group.")
                    .case_exact()
                    .read_only(),
                string("display", "The Group's displayName.").read_only(),
                string("type", "direct or indirect membership.")
                    .canonical(&["direct", "indirect"])
                    .read_only(),
            ],
            "The groups the user belongs to, maintained through Group membership.",
        )
        .multi()
        .read_only(),
    ],
};

pub static ENTERPRISE_USER: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        string("employeeNumber", "Identifier assigned by the organization."),
        string("costCenter", "Name of a cost center."),
        string("organization", "Name of an organization."),
        string("division", "Name of a division."),
        string("department", "Name of a department."),
        complex(
            "manager",
            &[
                string("value", "The id of the manager's User.").case_exact(),
                reference("$ref", &["User"], "The URI of the manager's User.").case_exact(),
                string("displayName", "The manager's displayName.").read_only(),
            ],
            "The user's manager.",
        ),
    ],
};

pub static GROUP: SchemaDef = SchemaDef {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "Group",
    attributes: &[
        string("displayName", "A human-readable name for the Group.")
            .required()
            .unique(),
        complex(
            "members",
            &[
                string("value", "The id of the member.")
                    .required()
                    .case_exact()
                    .immutable(),
                // Immutable as in RFC 7643 §8.7.1: a client may name a
                // member by its URI (the id is its last segment).
                reference("$ref", &["User", "Group"], "The URI of the member.")
                    .case_exact()
                    .immutable(),
                string("display", "A label for the member."),
                string("type", "User or Group.")
                    .canonical(&["User", "Group"])
                    .immutable(),
            ],
            "The members of the Group.",
        )
        .multi(),
    ],
};

/// Every schema Gantry serves, as `/Schemas` lists them.
pub static ALL_SCHEMAS: [&SchemaDef; 3] = [&USER, &GROUP, &ENTERPRISE_USER];

static USER_EXTENSIONS: [&SchemaDef; 1] = [&ENTERPRISE_USER];

/// The resources behind `/Users` and `/Groups`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];

    /// The path segment under `/scim/v2/`.
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    /// The resource type's name, as in `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    /// The core schema's URN.
    pub fn schema(self) -> &'static str {
        self.core().id
    }

    pub fn core(self) -> &'static SchemaDef {
        match self {
            ResourceKind::User => &USER,
            ResourceKind::Group => &GROUP,
        }
    }

    /// The schema extensions the resource type allows.
    pub fn extensions(self) -> &'static [&'static SchemaDef] {
        match self {
            ResourceKind::User => &USER_EXTENSIONS,
            ResourceKind::Group => &[],
        }
    }

    /// The extension with URN `urn`, ignoring ASCII case.
    pub fn extension(self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions()
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// A top-level attribute of the core schema or a common one.
    pub fn core_attr(self, name: &str) -> Option<&'static AttrDef> {
        self.core()
            .attr(name)
            .or_else(|| find(COMMON_ATTRIBUTES, name))
    }

    /// Every top-level attribute of the core schema and the common ones.
    pub fn core_attrs(self) -> impl Iterator<Item = &'static AttrDef> {
        COMMON_ATTRIBUTES.iter().chain(self.core().attributes)
    }

    /// What `path` names in this resource type, if anything. The URN may be
    /// the core schema's or an extension's; a path spelling out a whole
    /// extension URN (which the path parser splits at its last colon, as
    /// `urn:…:2.0` and `User`) names the extension object.
    pub fn resolve(self, path: &AttrPath) -> Option<Target> {
        let extension = match &path.urn {
            None => None,
            Some(urn) => {
                if path.sub.is_none()
                    && let Some(ext) = self.extension(&format!("{urn}:{}", path.name))
                {
                    return Some(Target::Extension(ext));
                }
                if urn.eq_ignore_ascii_case(self.schema()) {
                    None
                } else {
                    Some(self.extension(urn)?)
                }
            }
        };
        let attr = match extension {
            None => self.core_attr(&path.name)?,
            Some(ext) => ext.attr(&path.name)?,
        };
        let sub = match &path.sub {
            None => None,
            Some(sub) => Some(attr.sub(sub)?),
        };
        Some(Target::Attr(Resolved {
            extension,
            attr,
            sub,
        }))
    }
}

/// What an attribute path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// An attribute or sub-attribute.
    Attr(Resolved),
    /// A whole extension object, e.g. the enterprise User extension.
    Extension(&'static SchemaDef),
}

/// An attribute (and maybe a sub-attribute) found in the schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// `None` for the core schema and the common attributes.
    pub extension: Option<&'static SchemaDef>,
    pub attr: &'static AttrDef,
    pub sub: Option<&'static AttrDef>,
}

impl Resolved {
    /// The definition the path ends at.
    pub fn leaf(&self) -> &'static AttrDef {
        self.sub.unwrap_or(self.attr)
    }

    /// The canonical spelling, for messages: `name.givenName`,
    /// `urn:…:enterprise:2.0:User:manager.value`.
    pub fn display(&self) -> String {
        display_name(self.extension, self.attr, self.sub)
    }
}

/// `[urn:]attr[.sub]` in canonical spelling.
pub(super) fn display_name(
    extension: Option<&SchemaDef>,
    attr: &AttrDef,
    sub: Option<&AttrDef>,
) -> String {
    let mut out = String::new();
    if let Some(ext) = extension {
        out.push_str(ext.id);
        out.push(':');
    }
    out.push_str(attr.name);
    if let Some(sub) = sub {
        out.push('.');
        out.push_str(sub.name);
    }
    out
}

/// The schema's `caseExact` choices, for filters and PATCH value paths:
/// `userName`, emails and display names ignore case; `id`, `externalId`
/// and the ids in `members`, `groups` and `manager` do not. Unknown
/// attributes ignore case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaCaseExact(pub ResourceKind);

impl CaseExact for SchemaCaseExact {
    fn is_case_exact(&self, path: &AttrPath) -> bool {
        match self.0.resolve(path) {
            // `members eq "…"` compares each member's `value`.
            Some(Target::Attr(r)) if r.sub.is_none() && r.attr.is_complex() => {
                r.attr.sub("value").is_some_and(|v| v.case_exact)
            }
            Some(Target::Attr(r)) => r.leaf().case_exact,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::attr_path;

    fn path(text: &str) -> AttrPath {
        attr_path(text, 0).unwrap()
    }

    #[test]
    fn resolves_paths_in_any_case_and_with_urns() {
        let cases: &[(ResourceKind, &str, Option<&str>)] = &[
            (ResourceKind::User, "userName", Some("userName")),
            (ResourceKind::User, "USERNAME", Some("userName")),
            (ResourceKind::User, "name.GIVENNAME", Some("name.givenName")),
            (ResourceKind::User, "id", Some("id")),
            (
                ResourceKind::User,
                "meta.lastModified",
                Some("meta.lastModified"),
            ),
            (ResourceKind::User, "emails.value", Some("emails.value")),
            (ResourceKind::User, "groups.$ref", Some("groups.$ref")),
            (
                ResourceKind::User,
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                Some("userName"),
            ),
            (
                ResourceKind::User,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            ),
            (
                ResourceKind::User,
                "URN:IETF:params:scim:schemas:extension:enterprise:2.0:user:Manager.Value",
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
            ),
            (ResourceKind::User, "department", None),
            (ResourceKind::User, "password", None),
            (ResourceKind::User, "name.nope", None),
            (ResourceKind::User, "userName.sub", None),
            (ResourceKind::User, "members", None),
            (
                ResourceKind::User,
                "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
                None,
            ),
            (ResourceKind::User, "urn:x:y:userName", None),
            (ResourceKind::Group, "members.value", Some("members.value")),
            (ResourceKind::Group, "displayname", Some("displayName")),
            (ResourceKind::Group, "externalId", Some("externalId")),
            (ResourceKind::Group, "userName", None),
            (
                ResourceKind::Group,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                None,
            ),
        ];
        for (kind, text, expected) in cases {
            let got = match kind.resolve(&path(text)) {
                Some(Target::Attr(r)) => Some(r.display()),
                _ => None,
            };
            assert_eq!(got.as_deref(), *expected, "{kind:?} {text}");
        }
        assert_eq!(
            ResourceKind::User.resolve(&path(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"
            )),
            Some(Target::Extension(&ENTERPRISE_USER))
        );
        assert_eq!(
            ResourceKind::Group.resolve(&path(ENTERPRISE_USER_SCHEMA)),
            None
        );
    }

    #[test]
    fn case_exactness_follows_the_definitions() {
        let cases: &[(ResourceKind, &str, bool)] = &[
            (ResourceKind::User, "userName", false),
            (ResourceKind::User, "id", true),
            (ResourceKind::User, "externalId", true),
            (ResourceKind::User, "emails.value", false),
            (ResourceKind::User, "displayName", false),
            (ResourceKind::User, "groups.value", true),
            (
                ResourceKind::User,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                true,
            ),
            (ResourceKind::User, "unknown", false),
            (ResourceKind::Group, "members.value", true),
            (ResourceKind::Group, "members", true),
            (ResourceKind::User, "emails", false),
            (ResourceKind::User, "name", false),
            (ResourceKind::Group, "displayName", false),
            (ResourceKind::Group, "id", true),
        ];
        for (kind, text, exact) in cases {
            assert_eq!(
                SchemaCaseExact(*kind).is_case_exact(&path(text)),
                *exact,
                "{kind:?} {text}"
            );
        }
    }

    #[test]
    fn kinds_name_their_endpoints_and_schemas() {
        assert_eq!(
            ResourceKind::ALL.map(|k| (k.endpoint(), k.name(), k.schema())),
            [
                ("Users", "User", USER_SCHEMA),
                ("Groups", "Group", GROUP_SCHEMA)
            ]
        );
    }

    #[test]
    fn definitions_are_well_formed() {
        fn check(def: &AttrDef, nested: bool) {
            assert_eq!(
                def.is_complex(),
                !def.sub_attributes.is_empty(),
                "{}",
                def.name
            );
            assert!(
                !(nested && def.is_complex()),
                "{}: one level only",
                def.name
            );
            assert_eq!(
                def.ty == AttrType::Reference,
                !def.reference_types.is_empty(),
                "{}",
                def.name
            );
            assert!(!def.description.is_empty(), "{}", def.name);
            for sub in def.sub_attributes {
                check(sub, true);
            }
        }
        for schema in ALL_SCHEMAS {
            for def in schema.attributes.iter().chain(COMMON_ATTRIBUTES) {
                check(def, false);
                assert!(
                    COMMON_ATTRIBUTES.iter().all(|c| c.name != def.name)
                        || schema.attributes.iter().all(|a| a.name != def.name),
                    "{} redefines a common attribute",
                    def.name
                );
            }
        }
        assert!(USER.attr("password").is_none());
    }
}
