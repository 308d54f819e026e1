//! User accounts, managed by admins at `/api/v1/users`: a resource on the engine
//! (list with paging, read, create, change a role or a password with a merge patch,
//! delete; ETags and `If-Match` as everywhere). Passwords are kept as argon2id
//! hashes (`login`); the last admin stays an admin. `seesac-api users create` and
//! the embedded default's first start create users too (`create`).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::login::hash_password;
use crate::engine::{
    Descriptor, Events, Operations, Resource, Save, Tag, Target, WriteContext, delete_row,
    stored_row, table_resource,
};
use crate::platform::auth::{Caller, Identity, JwtKeys, Permission, Role};
use crate::platform::db::schema::users;
use crate::platform::error::{AppError, AppResult};
use crate::platform::query::{Dir, Field, Kind, ListSpec};
use crate::platform::validate::Check;

const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 1024;

stored_row! {
    /// A user account (never its password hash).
    #[diesel(table_name = users)]
    #[schema(example = json!({"id": "3f1e2d4c-5b6a-4978-8c9d-0e1f2a3b4c5d", "username": "admin",
        "role": "admin", "version": 1, "created_at": "2024-05-08T09:00:00Z",
        "updated_at": "2024-05-08T09:00:00Z"}))]
    pub struct User {
        /// Stable identifier (UUID). Read-only.
        pub id: Uuid,
        /// Lowercase letters, digits, `.`, `_` and `-`.
        pub username: String,
        #[serde(skip)]
        pub password_hash: String,
        /// `admin` (everything, including users) or `editor` (all content).
        #[schema(value_type = Role)]
        pub role: String,
        /// What the user's access tokens carry; a new password or role renews it.
        #[serde(skip)]
        pub token_stamp: Uuid,
    }
    key: username
}

/// The body of POST and PATCH.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "editor", "password": "a long and unguessable passphrase",
    "role": "editor"}))]
pub struct UserBody {
    /// Lowercase letters, digits, `.`, `_` and `-`, at most 63 characters. It
    /// cannot change.
    #[schema(pattern = "^[a-z0-9][a-z0-9._-]{0,62}$")]
    pub username: Option<String>,
    /// At least 12 characters. Required to create a user; a PATCH with it sets a new
    /// one.
    #[schema(min_length = 12, max_length = 1024)]
    pub password: Option<String>,
    /// `admin` (everything, including users) or `editor` (all content). A new role
    /// applies to the user's tokens from their next request.
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
}

/// A user to store: the password hashed, or none to keep the one stored.
#[derive(Debug)]
pub struct UserInput {
    username: String,
    password_hash: Option<String>,
    role: Role,
}

const FIELDS: &[Field] = &[
    Field::new("username", Kind::Text).ordered(),
    Field::new("role", Kind::Enum(&["admin", "editor"])).ordered(),
];

fn parse_username(raw: &str) -> Result<String, String> {
    let valid = !raw.is_empty()
        && raw.len() <= 63
        && raw
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if valid {
        Ok(raw.to_owned())
    } else {
        Err("must be lowercase letters, digits, '.', '_' or '-', at most 63 characters".to_owned())
    }
}

pub fn parse_password(raw: &str) -> Result<String, String> {
    match raw.chars().count() {
        n if n < MIN_PASSWORD => Err(format!("must be at least {MIN_PASSWORD} characters")),
        n if n > MAX_PASSWORD => Err(format!("must be at most {MAX_PASSWORD} characters")),
        _ => Ok(raw.to_owned()),
    }
}

pub fn find(conn: &mut PgConnection, username: &str) -> AppResult<Option<User>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn count(conn: &mut PgConnection) -> AppResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// Creates an account outside the API (the command line, the first start); the
/// password is hashed with argon2id.
pub fn create(
    conn: &mut PgConnection,
    username: &str,
    password: &str,
    role: Role,
) -> AppResult<User> {
    let body = UserBody {
        username: Some(username.to_owned()),
        password: Some(password.to_owned()),
        role: Some(role.as_str().to_owned()),
    };
    let input = Users::validate(body, Target::NEW)?;
    Ok(diesel::insert_into(users::table)
        .values((
            users::username.eq(&input.username),
            users::password_hash.eq(input.password_hash.unwrap_or_default()),
            users::role.eq(input.role.as_str()),
        ))
        .returning(User::as_returning())
        .get_result(conn)?)
}

/// A 409 if `user` is the last admin, who must stay one.
fn keep_an_admin(conn: &mut PgConnection, user: &User) -> AppResult<()> {
    if user.role != Role::Admin.as_str() {
        return Ok(());
    }
    let admins: i64 = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .count()
        .get_result(conn)?;
    if admins <= 1 {
        return Err(AppError::conflict(
            "this is the last admin; make another user an admin first",
        ));
    }
    Ok(())
}

pub struct Users;

impl Resource for Users {
    const DESCRIPTOR: &'static Descriptor = &Descriptor {
        name: "user",
        plural: "users",
        kind: "user",
        table: "users",
        path: "/api/v1/users",
        key: "username",
        key_description: "The username, e.g. `editor`",
        key_example: "editor",
        tag: Tag {
            name: "users",
            description: "User accounts (admins only)",
        },
        spec: &ListSpec::records(FIELDS, &[("username", Dir::Asc)], "username"),
        read: Some(Permission::ManageUsers),
        write: Permission::ManageUsers,
        // Two changes of admins at once could demote the last two.
        write_lock: Some("users"),
        events: Events::None,
        operations: Operations {
            replace: false,
            rename: false,
            ..Operations::ALL
        },
        refreshed: Some((
            "access_token",
            "When you change your own password: a fresh access token, since the one you \
             sent the change with no longer works (a new password ends every token issued \
             before it). Shown this once.",
        )),
        ..Descriptor::DEFAULT
    };

    table_resource!(
        table: users, key: username as String, row: User, body: UserBody, input: UserInput
    );

    /// A new user needs a password; a changed one keeps the stored hash unless a
    /// new password is sent. The password is hashed here, inside the write.
    fn validate(body: UserBody, to: Target<'_, User>) -> AppResult<UserInput> {
        let mut check = Check::default();
        let username = check.required("username", body.username, parse_username);
        if let (Some(existing), Some(username)) = (to.existing, &username)
            && *username != existing.username
        {
            check.fail("username", "cannot change: create another user instead");
        }
        let password = match to.existing {
            None => check.required("password", body.password, parse_password),
            Some(_) => check.parsed("password", body.password, parse_password),
        };
        let role = check.required("role", body.role, |raw| {
            Role::parse(raw).ok_or_else(|| "must be admin or editor".to_owned())
        });
        let (username, role) = check.finish((username, role))?;
        Ok(UserInput {
            username: username.unwrap_or_default(),
            password_hash: password
                .map(|password| hash_password(&password))
                .transpose()?,
            role: role.unwrap_or(Role::Editor),
        })
    }

    fn save(conn: &mut PgConnection, save: Save<'_, Self>) -> AppResult<User> {
        let Save {
            existing, input, ..
        } = save;
        let Some(existing) = existing else {
            return Ok(diesel::insert_into(users::table)
                .values((
                    users::username.eq(&input.username),
                    users::password_hash.eq(input.password_hash.unwrap_or_default()),
                    users::role.eq(input.role.as_str()),
                ))
                .returning(User::as_returning())
                .get_result(conn)?);
        };
        if input.role != Role::Admin {
            keep_an_admin(conn, existing)?;
        }
        let hash = input
            .password_hash
            .unwrap_or_else(|| existing.password_hash.clone());
        Ok(diesel::update(users::table.find(existing.id))
            .set((
                users::role.eq(input.role.as_str()),
                users::password_hash.eq(hash),
            ))
            .returning(User::as_returning())
            .get_result(conn)?)
    }

    /// A person who changed their own password gets a token for the new one.
    fn refreshed(
        caller: &Caller,
        before: &User,
        after: &User,
        keys: &JwtKeys,
    ) -> AppResult<Option<String>> {
        let own = matches!(&caller.identity, Identity::Person { username, .. } if *username == after.username);
        if !own || before.password_hash == after.password_hash {
            return Ok(None);
        }
        let role = Role::parse(&after.role).unwrap_or(Role::Editor);
        keys.issue(&after.username, &after.token_stamp.to_string(), role)
            .map(Some)
    }

    /// The user's tokens stop working on their next request.
    fn delete(conn: &mut PgConnection, row: &User, _: bool, _: &WriteContext) -> AppResult<()> {
        keep_an_admin(conn, row)?;
        delete_row::<Self>(conn, row)
    }
}
