//! Who may call an operation, and how the OpenAPI document says so: the security
//! requirements of the `bearer` (a person's token) and `token` (an API token, with
//! its scope) schemes.

use utoipa::openapi::security::SecurityRequirement;

use crate::platform::auth::Permission;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No credentials are looked at (operations, login).
    None,
    /// Anyone; a token with the right to read drafts sees them too.
    Public,
    /// A person's token whose role grants this, or an API token whose scope does.
    Needs(Permission),
    /// Any person's token, or any API token, whatever it may do.
    Anyone,
    /// A person's token only.
    Person,
}
/// The security requirements of an operation: the `token` scheme lists its scope.
pub(super) fn requirements(security: Security) -> Vec<SecurityRequirement> {
    let person = || SecurityRequirement::new("bearer", Vec::<String>::new());
    let any_token = || SecurityRequirement::new("token", Vec::<String>::new());
    let token = |permission: Permission| {
        let scope = permission.scope()?;
        Some(SecurityRequirement::new("token", [scope.as_str()]))
    };
    match security {
        Security::None => vec![SecurityRequirement::default()],
        Security::Public => [SecurityRequirement::default(), person()]
            .into_iter()
            .chain(token(Permission::ReadDrafts))
            .collect(),
        Security::Needs(permission) => [person()].into_iter().chain(token(permission)).collect(),
        Security::Anyone => vec![person(), any_token()],
        Security::Person => vec![person()],
    }
}
