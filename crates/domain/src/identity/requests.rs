//! The fixed request shapes of the identity context, their rules declared with
//! `validator` (see [`crate::validation`]): token requests, service accounts,
//! logins, organizations and users. Field names are the wire names.
//!
//! Operations that answer one problem at a time (an identity error names one field)
//! read these errors in their order of precedence; the rules themselves live here
//! only.

use crate::validation::{self as rules, Validate};

/// Longest lifetime of a token, in days.
pub const MAX_EXPIRY_DAYS: u32 = 3650;

/// A token to issue (`POST /tokens/`, a service account's token): a name and an
/// optional lifetime.
#[derive(Debug, Validate)]
pub struct TokenRequest<'a> {
    #[validate(custom(function = "rules::display_name"))]
    pub name: &'a str,
    #[validate(range(min = 1, max = 3650, message = "must be an integer from 1 to 3650"))]
    pub expires_in_days: Option<u32>,
}

/// The `scopes` of a token request: known scope names (repeats count once).
#[derive(Debug, Validate)]
pub struct ScopeList<'a> {
    #[validate(custom(function = "rules::scope_names"))]
    pub scopes: &'a [String],
}

/// `POST /service-accounts/`: a name and a role a service account may hold.
#[derive(Debug, Validate)]
pub struct ServiceAccountRequest<'a> {
    #[validate(custom(function = "rules::display_name"))]
    pub name: &'a str,
    #[validate(custom(function = "rules::service_account_role_name"))]
    pub role: &'a str,
}

/// `POST /auth/login/`: the email as sent (its length only: a malformed address is
/// answered like a wrong password).
#[derive(Debug, Validate)]
pub struct LoginRequest<'a> {
    #[validate(custom(function = "rules::login_email"))]
    pub email: &'a str,
}

/// A new organization (operator command): a display name and a handle.
#[derive(Debug, Validate)]
pub struct OrganizationRequest<'a> {
    #[validate(custom(function = "rules::display_name"))]
    pub name: &'a str,
    #[validate(custom(function = "rules::org_handle"))]
    pub handle: &'a str,
}

/// A new user (operator command, first owner): an email address.
#[derive(Debug, Validate)]
pub struct UserRequest<'a> {
    #[validate(custom(function = "rules::email_address"))]
    pub email: &'a str,
}

#[cfg(test)]
mod tests {
    //! Each test calls the derived `Validate` directly: without the derive (or
    //! with a rule removed) it fails to build or fails.

    use super::*;
    use crate::validation::{NAME_RULE, SERVICE_ACCOUNT_ROLE, UNKNOWN_SCOPE, errors_from};

    fn errors(request: &impl Validate) -> crate::shared::ValidationErrors {
        errors_from(&request.validate().expect_err("invalid"))
    }

    #[test]
    fn token_requests_carry_name_lifetime_and_scope_rules() {
        let scopes = vec!["configurations:read".to_owned(), "nope".to_owned()];
        let found = errors(&TokenRequest {
            name: " \u{7}",
            expires_in_days: Some(0),
        });
        assert_eq!(found.fields()["name"], vec![NAME_RULE]);
        assert_eq!(
            found.fields()["expires_in_days"],
            vec!["must be an integer from 1 to 3650"]
        );
        let found = errors(&ScopeList { scopes: &scopes });
        assert_eq!(found.fields()["scopes"], vec![UNKNOWN_SCOPE]);
        assert!(!format!("{found:?}").contains("nope"));
        assert!(ScopeList { scopes: &[] }.validate().is_ok());
        let over = errors(&TokenRequest {
            name: "laptop",
            expires_in_days: Some(MAX_EXPIRY_DAYS + 1),
        });
        assert_eq!(over.fields().len(), 1);
        assert!(
            TokenRequest {
                name: "laptop",
                expires_in_days: Some(MAX_EXPIRY_DAYS),
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn service_accounts_carry_name_and_role_rules() {
        let found = errors(&ServiceAccountRequest {
            name: &"n".repeat(101),
            role: "owner",
        });
        assert_eq!(found.fields()["name"], vec![NAME_RULE]);
        assert_eq!(found.fields()["role"], vec![SERVICE_ACCOUNT_ROLE]);
        assert!(
            ServiceAccountRequest {
                name: "ci",
                role: "viewer"
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn logins_organizations_and_users_carry_their_rules() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(
            errors(&LoginRequest { email: &long }).fields()["email"],
            vec!["must be at most 254 characters"]
        );
        assert!(LoginRequest { email: "x" }.validate().is_ok());
        let found = errors(&OrganizationRequest {
            name: "",
            handle: "Acme",
        });
        assert_eq!(found.fields()["name"], vec![NAME_RULE]);
        assert_eq!(
            found.fields()["handle"],
            vec!["may hold only lowercase letters, digits and hyphens"]
        );
        assert_eq!(
            errors(&UserRequest { email: "a b@c" }).fields()["email"],
            vec!["must be an email address such as name@example.com, at most 254 characters"]
        );
        assert!(
            UserRequest {
                email: "Owner@LocalHost"
            }
            .validate()
            .is_ok()
        );
    }
}
