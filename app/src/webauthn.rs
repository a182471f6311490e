//! The browser's half of a passkey ceremony: the server's options (the
//! WebAuthn JSON encoding, `{"publicKey": …}`) go through
//! `PublicKeyCredential.parse…OptionsFromJSON` to `navigator.credentials`,
//! and the authenticator's answer comes back as `toJSON()` text for the
//! server to verify. Browser only: the server renders the buttons, which
//! call this once hydrated.

/// Which ceremony: registering a passkey, or signing in with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Create,
    Get,
}

/// Asks the browser's authenticator; the answer as JSON text, or what went
/// wrong in words a person can act on.
pub async fn ask(ceremony: Ceremony, options: &serde_json::Value) -> Result<String, String> {
    #[cfg(target_arch = "wasm32")]
    {
        browser::ask(ceremony, options).await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (ceremony, options);
        Err("passkeys need a browser".into())
    }
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::Ceremony;
    use js_sys::{Function, JSON, Object, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    /// A JavaScript error's message (a `DOMException`'s name says most:
    /// `NotAllowedError` is a cancel or a timeout).
    fn said(e: JsValue) -> String {
        let name = Reflect::get(&e, &"name".into())
            .ok()
            .and_then(|n| n.as_string());
        let message = Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| e.as_string())
            .unwrap_or_else(|| "unknown error".into());
        match name.as_deref() {
            Some("NotAllowedError") => {
                "the authenticator was cancelled or timed out: try again".into()
            }
            Some("InvalidStateError") => {
                "this authenticator holds a passkey for this account already".into()
            }
            Some(name) => format!("{name}: {message}"),
            None => message,
        }
    }

    fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
        Reflect::get(target, &key.into()).map_err(said)
    }

    fn method(target: &JsValue, key: &str) -> Result<Function, String> {
        get(target, key)?
            .dyn_into::<Function>()
            .map_err(|_| format!("this browser has no {key}: update it to use passkeys"))
    }

    pub async fn ask(ceremony: Ceremony, options: &serde_json::Value) -> Result<String, String> {
        let global: JsValue = js_sys::global().into();
        let credential_class = get(&global, "PublicKeyCredential")?;
        if credential_class.is_undefined() {
            return Err("this browser doesn't support passkeys (WebAuthn)".into());
        }
        let (parse, call) = match ceremony {
            Ceremony::Create => ("parseCreationOptionsFromJSON", "create"),
            Ceremony::Get => ("parseRequestOptionsFromJSON", "get"),
        };
        let json = serde_json::to_string(&options["publicKey"]).map_err(|e| e.to_string())?;
        let public_key_json = JSON::parse(&json).map_err(said)?;
        let public_key = method(&credential_class, parse)?
            .call1(&credential_class, &public_key_json)
            .map_err(said)?;
        let request = Object::new();
        Reflect::set(&request, &"publicKey".into(), &public_key).map_err(said)?;
        let credentials = get(&get(&global, "navigator")?, "credentials")?;
        let pending: Promise = method(&credentials, call)?
            .call1(&credentials, &request)
            .map_err(said)?
            .dyn_into()
            .map_err(|_| "navigator.credentials answered no promise".to_owned())?;
        let credential = JsFuture::from(pending).await.map_err(said)?;
        if credential.is_null() || credential.is_undefined() {
            return Err("no passkey was chosen".into());
        }
        let answer = method(&credential, "toJSON")?
            .call0(&credential)
            .map_err(said)?;
        JSON::stringify(&answer)
            .map_err(said)?
            .as_string()
            .ok_or_else(|| "the authenticator's answer is not text".into())
    }
}
