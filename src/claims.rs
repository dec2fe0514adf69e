//! Time and presence checks on a claims set (RFC 7519 §4.1, RFC 9068 §2.2).

use crate::error::{AuthError, ErrorCode};
use serde_json::{Map, Value};

/// The claim checks of one middleware.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRules {
    /// Seconds of clock skew allowed for `exp`, `nbf` and `iat`. Defaults to `60`.
    pub clock_tolerance: f64,
    /// Reject tokens whose `iat` is older than this many seconds. Defaults to no check.
    pub max_token_age: Option<f64>,
    /// Claims that must be present. Defaults to `iss`, `sub`, `exp` (RFC 9068 §2.2).
    pub required: Vec<String>,
}

impl Default for ClaimRules {
    fn default() -> Self {
        Self { clock_tolerance: 60.0, max_token_age: None, required: vec!["iss".into(), "sub".into(), "exp".into()] }
    }
}

fn rejected(reason: String) -> AuthError {
    AuthError::with_reason(ErrorCode::InvalidToken, reason)
}

/// A NumericDate claim: absent, or a JSON number (RFC 7519 §2).
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, AuthError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(rejected(format!("The `{name}` claim is not a usable number."))),
        },
        Some(_) => Err(rejected(format!("The `{name}` claim is not a number."))),
    }
}

impl ClaimRules {
    /// Checks required claims, `exp`, `nbf` and `iat` against `now` (seconds since the epoch).
    pub fn check(&self, claims: &Map<String, Value>, now: f64) -> Result<(), AuthError> {
        self.check_required(claims)?;
        self.check_exp(claims, now)?;
        self.check_nbf(claims, now)?;
        self.check_iat(claims, now)
    }

    /// Every required claim is present and not `null`.
    pub fn check_required(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        match self.required.iter().find(|name| claims.get(name.as_str()).is_none_or(Value::is_null)) {
            Some(name) => Err(rejected(format!("The token has no `{name}` claim."))),
            None => Ok(()),
        }
    }

    /// `exp`, when present, is a number not more than the clock tolerance in the past.
    pub fn check_exp(&self, claims: &Map<String, Value>, now: f64) -> Result<(), AuthError> {
        match numeric_date(claims, "exp")? {
            Some(exp) if exp <= now - self.clock_tolerance => Err(rejected("The token has expired (`exp`).".into())),
            _ => Ok(()),
        }
    }

    /// `nbf`, when present, is a number not more than the clock tolerance in the future.
    pub fn check_nbf(&self, claims: &Map<String, Value>, now: f64) -> Result<(), AuthError> {
        match numeric_date(claims, "nbf")? {
            Some(nbf) if nbf > now + self.clock_tolerance => {
                Err(rejected("The token is not valid yet (`nbf`).".into()))
            }
            _ => Ok(()),
        }
    }

    /// `iat`, when present, is a number not in the future (beyond the tolerance) and, with a
    /// maximum token age, present and recent enough.
    pub fn check_iat(&self, claims: &Map<String, Value>, now: f64) -> Result<(), AuthError> {
        let skew = self.clock_tolerance;
        let iat = numeric_date(claims, "iat")?;
        if let Some(iat) = iat {
            if iat > now + skew {
                return Err(rejected("The token was issued in the future (`iat`).".into()));
            }
        }
        if let Some(max_age) = self.max_token_age {
            let Some(iat) = iat else {
                return Err(rejected("The token has no `iat` claim to check its age.".into()));
            };
            if now - iat - skew > max_age {
                return Err(rejected("The token is older than the maximum token age (`iat`).".into()));
            }
        }
        Ok(())
    }
}

impl ClaimRules {
    /// Until when (seconds since the epoch) a claims set that passed [`ClaimRules::check`] keeps
    /// passing, not counting the clock tolerance: the earlier of `exp` and `iat` + the maximum
    /// token age. `None` when neither applies.
    pub fn valid_until(&self, claims: &Map<String, Value>) -> Option<f64> {
        let exp = numeric_date(claims, "exp").ok().flatten();
        let aged = self.max_token_age.and_then(|max| Some(numeric_date(claims, "iat").ok().flatten()? + max));
        match (exp, aged) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_700_000_000.0;

    fn check(rules: &ClaimRules, v: Value) -> Result<(), String> {
        let Value::Object(m) = v else { return Err("not an object".into()) };
        rules.check(&m, NOW).map_err(|e| e.reason().unwrap_or_default().to_owned())
    }

    fn full(extra: Value) -> Value {
        let mut base = json!({"iss": "i", "sub": "s", "exp": NOW + 300.0});
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            b.extend(e);
        }
        base
    }

    #[test]
    fn default_requires_iss_sub_exp() {
        let r = ClaimRules::default();
        assert!(check(&r, full(json!({}))).is_ok());
        assert!(check(&r, json!({"iss": "i", "exp": NOW + 1.0})).unwrap_err().contains("`sub`"));
        assert!(check(&r, json!({"iss": "i", "sub": "s"})).unwrap_err().contains("`exp`"));
        assert!(check(&r, full(json!({"sub": null}))).unwrap_err().contains("`sub`"));
    }

    #[test]
    fn exp_in_the_past_beyond_tolerance_fails() {
        let r = ClaimRules::default();
        assert!(check(&r, full(json!({"exp": NOW - 61.0}))).unwrap_err().contains("expired"));
        assert!(check(&r, full(json!({"exp": NOW - 60.0}))).unwrap_err().contains("expired"));
    }

    #[test]
    fn exp_in_the_past_within_tolerance_passes() {
        assert!(check(&ClaimRules::default(), full(json!({"exp": NOW - 59.0}))).is_ok());
        let strict = ClaimRules { clock_tolerance: 0.0, ..Default::default() };
        assert!(check(&strict, full(json!({"exp": NOW - 1.0}))).is_err());
    }

    #[test]
    fn nbf_and_iat_in_the_future_beyond_tolerance_fail() {
        let r = ClaimRules::default();
        assert!(check(&r, full(json!({"nbf": NOW + 61.0}))).unwrap_err().contains("nbf"));
        assert!(check(&r, full(json!({"nbf": NOW + 59.0}))).is_ok());
        assert!(check(&r, full(json!({"iat": NOW + 61.0}))).unwrap_err().contains("iat"));
        assert!(check(&r, full(json!({"iat": NOW + 59.0}))).is_ok());
    }

    #[test]
    fn time_claims_must_be_numbers() {
        let r = ClaimRules::default();
        for claim in ["exp", "nbf", "iat"] {
            let mut extra = Map::new();
            extra.insert(claim.into(), json!("1700000000"));
            assert!(check(&r, full(Value::Object(extra))).unwrap_err().contains("not a number"));
        }
    }

    #[test]
    fn max_token_age_needs_a_recent_iat() {
        let r = ClaimRules { max_token_age: Some(300.0), ..Default::default() };
        assert!(check(&r, full(json!({"iat": NOW - 100.0}))).is_ok());
        assert!(check(&r, full(json!({"iat": NOW - 361.0}))).unwrap_err().contains("older"));
        assert!(check(&r, full(json!({}))).unwrap_err().contains("iat"));
    }

    #[test]
    fn required_claims_can_be_narrowed_for_machine_tokens() {
        let r = ClaimRules { required: vec!["iss".into(), "exp".into()], ..Default::default() };
        assert!(check(&r, json!({"iss": "i", "exp": NOW + 5.0})).is_ok());
    }

    #[test]
    fn validity_ends_at_exp_or_at_the_maximum_age() {
        let c = |v: Value| v.as_object().cloned().unwrap_or_default();
        let rules = ClaimRules::default();
        assert_eq!(rules.valid_until(&c(serde_json::json!({ "exp": 500, "iat": 100 }))), Some(500.0));
        assert_eq!(rules.valid_until(&c(serde_json::json!({ "iat": 100 }))), None);
        let aged = ClaimRules { max_token_age: Some(60.0), ..ClaimRules::default() };
        assert_eq!(aged.valid_until(&c(serde_json::json!({ "exp": 500, "iat": 100 }))), Some(160.0));
        assert_eq!(aged.valid_until(&c(serde_json::json!({ "iat": 100 }))), Some(160.0));
    }
}
