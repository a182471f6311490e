//! Who a credential acts for. Four eyes compare people, not credentials: a
//! signed-in person is themself; a token acts for the person who made it
//! (recorded on the token, inherited along a chain of tokens); the system
//! (the bootstrap token, `gantry token`) is one party of its own.

use crate::plane::{GantryPlane, internal};
use gantry_core::approval::Person;
use gantry_core::token::ServiceToken;
use gantry_core::{PortError, Principal, PrincipalKind};

impl GantryPlane {
    /// The token a token principal is, as stored (with its maker and
    /// permissions); `None` for anyone else.
    pub(crate) async fn token_behind(
        &self,
        principal: &Principal,
    ) -> Result<Option<ServiceToken>, PortError> {
        if principal.kind != PrincipalKind::ServiceToken {
            return Ok(None);
        }
        self.store
            .find_token(&principal.id.0)
            .await
            .map_err(internal)
    }

    /// The person `principal` acts for; `None` for a token whose maker was
    /// never recorded (and for SCIM clients, workers and metrics scrapers,
    /// which act for nobody: they can neither ask nor decide).
    pub(crate) async fn person_behind(
        &self,
        principal: &Principal,
    ) -> Result<Option<Person>, PortError> {
        Ok(match principal.kind {
            PrincipalKind::User => Some(Person {
                id: principal.id.0.clone(),
                name: principal.display_name.clone(),
            }),
            PrincipalKind::System => Some(Person::system()),
            PrincipalKind::ServiceToken => self
                .token_behind(principal)
                .await?
                .and_then(|token| token.maker),
            PrincipalKind::ScimClient | PrincipalKind::Worker | PrincipalKind::MetricsScraper => {
                None
            }
        })
    }
}
