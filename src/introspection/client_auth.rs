//! The introspection request's form body and client authentication (RFC 7662 §2.1,
//! RFC 6749 §2.3.1).

use super::options::AuthMethod;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use url::form_urlencoded;

/// This resource server's credentials and how it presents them.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientAuth {
    client_id: String,
    client_secret: String,
    method: AuthMethod,
}

/// Never prints the secret.
impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth").field("client_id", &self.client_id).field("method", &self.method).finish()
    }
}

/// One introspection request, ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct FormRequest {
    /// The `Authorization` header, with `client_secret_basic`.
    pub authorization: Option<String>,
    /// The `application/x-www-form-urlencoded` body.
    pub body: String,
}

/// `application/x-www-form-urlencoded` encoding of one value (spaces become `+`).
pub fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The `Authorization` header value of `client_secret_basic`: the client id and secret are each
/// form-encoded, joined by `:` and base64-encoded (RFC 6749 §2.3.1), so that a `:` in the id
/// cannot move the split point.
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    let pair = format!("{}:{}", form_encode(client_id), form_encode(client_secret));
    format!("Basic {}", STANDARD.encode(pair))
}

impl ClientAuth {
    /// Credentials presented with `method`.
    pub fn new(client_id: &str, client_secret: &str, method: AuthMethod) -> Self {
        Self { client_id: client_id.to_owned(), client_secret: client_secret.to_owned(), method }
    }

    /// The request introspecting `token`: `token=…&token_type_hint=access_token`, plus the
    /// credentials in the body (`client_secret_post`) or in the header (`client_secret_basic`).
    pub fn request(&self, token: &str) -> FormRequest {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token).append_pair("token_type_hint", "access_token");
        let authorization = match self.method {
            AuthMethod::ClientSecretBasic => Some(basic_authorization(&self.client_id, &self.client_secret)),
            AuthMethod::ClientSecretPost => {
                form.append_pair("client_id", &self.client_id).append_pair("client_secret", &self.client_secret);
                None
            }
        };
        FormRequest { authorization, body: form.finish() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_basic(header: &str) -> String {
        let b64 = header.strip_prefix("Basic ").unwrap_or_else(|| panic!("{header}"));
        String::from_utf8(STANDARD.decode(b64).unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn form_encoding_escapes_reserved_characters_and_turns_spaces_into_plus() {
        assert_eq!(form_encode("a b&c=d+e%f/g?h#i"), "a+b%26c%3Dd%2Be%25f%2Fg%3Fh%23i");
        assert_eq!(form_encode("ü€"), "%C3%BC%E2%82%AC");
        assert_eq!(form_encode("AZaz09-._*"), "AZaz09-._*");
    }

    #[test]
    fn basic_auth_form_encodes_id_and_secret_before_base64() {
        let h = basic_authorization("my client:1", "p@ss:w/rd+ü %");
        assert_eq!(decode_basic(&h), "my+client%3A1:p%40ss%3Aw%2Frd%2B%C3%BC+%25");
        // Plain credentials stay as they are: RFC 7617 and RFC 6749 agree on them.
        assert_eq!(basic_authorization("rs", "secret"), format!("Basic {}", STANDARD.encode("rs:secret")));
    }

    #[test]
    fn basic_requests_carry_only_the_token_in_the_body() {
        let r = ClientAuth::new("rs", "s&t", AuthMethod::ClientSecretBasic).request("abc+/=&x");
        assert_eq!(r.body, "token=abc%2B%2F%3D%26x&token_type_hint=access_token");
        assert_eq!(r.authorization.as_deref().map(decode_basic).as_deref(), Some("rs:s%26t"));
    }

    #[test]
    fn post_requests_carry_the_credentials_in_the_body() {
        let r = ClientAuth::new("my rs", "s&t=1", AuthMethod::ClientSecretPost).request("tok");
        assert_eq!(r.authorization, None);
        assert_eq!(r.body, "token=tok&token_type_hint=access_token&client_id=my+rs&client_secret=s%26t%3D1");
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let c = ClientAuth::new("rs", "hunter2", AuthMethod::ClientSecretPost);
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
