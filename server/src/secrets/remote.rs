//! Who resolves a remote worker's secrets, per environment
//! (`--remote-worker-secrets`): the worker itself with its own provider
//! credentials (the default: values never cross the network, and prod's
//! secrets can live only on prod's workers), or the server, which fetches
//! them and hands them over the execution API.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolver {
    #[default]
    Worker,
    Server,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteWorkerSecrets {
    default: Resolver,
    per_environment: BTreeMap<String, Resolver>,
}

impl RemoteWorkerSecrets {
    /// `MODE[@ENV],…`: `server@dev,worker` has the server resolve dev's and
    /// workers resolve everything else. Environment names are checked by
    /// the caller.
    pub fn parse(items: &[String]) -> Result<Self, String> {
        let mut out = Self::default();
        for item in items.iter().flat_map(|i| i.split(',')).map(str::trim) {
            if item.is_empty() {
                continue;
            }
            let (mode, env) = match item.split_once('@') {
                Some((m, e)) => (m, Some(e)),
                None => (item, None),
            };
            let resolver = match mode {
                "worker" => Resolver::Worker,
                "server" => Resolver::Server,
                other => {
                    return Err(format!(
                        "{other:?} is not worker or server (write MODE or MODE@ENV)"
                    ));
                }
            };
            match env {
                Some(env) => {
                    out.per_environment.insert(env.to_owned(), resolver);
                }
                None => out.default = resolver,
            }
        }
        Ok(out)
    }

    pub fn resolver_for(&self, environment: &str) -> Resolver {
        self.per_environment
            .get(environment)
            .copied()
            .unwrap_or(self.default)
    }

    pub fn environments(&self) -> impl Iterator<Item = &str> {
        self.per_environment.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_take_their_own_mode_and_the_rest_the_default() {
        let p = RemoteWorkerSecrets::parse(&["server@dev, worker".into(), "server@stage".into()])
            .unwrap();
        assert_eq!(p.resolver_for("dev"), Resolver::Server);
        assert_eq!(p.resolver_for("stage"), Resolver::Server);
        assert_eq!(p.resolver_for("prod"), Resolver::Worker);
        let all = RemoteWorkerSecrets::parse(&["server".into()]).unwrap();
        assert_eq!(all.resolver_for("prod"), Resolver::Server);
        assert_eq!(
            RemoteWorkerSecrets::default().resolver_for("dev"),
            Resolver::Worker
        );
        assert!(RemoteWorkerSecrets::parse(&["vault@dev".into()]).is_err());
    }
}
