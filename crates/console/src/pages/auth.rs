//! Signing in and out: the sign-in form (email and password, throttled as the
//! API's login is), the one-time sign-in link of the development profile's first
//! start, sign-out (the session's token is revoked), the root page that sends a
//! person to their organization, and the organization switcher.

use actix_web::http::StatusCode;
use actix_web::http::header::SET_COOKIE;
use actix_web::{HttpRequest, HttpResponse, Scope, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;
use switchboard_application::identity::{ChangePasswordError, LoginError};
use switchboard_application::limits::LoginThrottleError;
use switchboard_domain::identity::Email;

use crate::assets::{AssetUrls, urls};
use crate::session::{self, context, cookie, login_cookie_name, read_cookie, same_text};
use crate::view::{Nav, PageError, redirect, render};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    assets: &'static AssetUrls,
    csrf: String,
    email: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    done: Option<String>,
}

/// The sign-in form, with a fresh CSRF value in a cookie of its own.
async fn login_page(
    req: HttpRequest,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, PageError> {
    let notice = match query.done.as_deref() {
        Some("signed-out") => Some("You are signed out."),
        _ => None,
    };
    login_form(&req, String::new(), None, notice, StatusCode::OK)
}

fn login_form(
    req: &HttpRequest,
    email: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (_, config) = context(req)?;
    let csrf = uuid::Uuid::new_v4().simple().to_string();
    let page = LoginPage {
        assets: urls(),
        csrf: csrf.clone(),
        email,
        error,
        notice,
    };
    let mut response = render(&page, status)?;
    if let Ok(value) = cookie(&config, login_cookie_name(&config), &csrf, 3600).parse() {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

/// The client address, as the API's login throttling sees it.
fn client_address(req: &HttpRequest, state: &switchboard_http::AppState) -> String {
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok());
    state
        .trusted_proxies
        .client(req.peer_addr().map(|address| address.ip()), forwarded)
        .map_or_else(|| "unknown".to_owned(), |address| address.to_string())
}

async fn login(req: HttpRequest, form: web::Form<LoginForm>) -> Result<HttpResponse, PageError> {
    let (state, config) = context(&req)?;
    let form = form.into_inner();
    let expected = read_cookie(&req, login_cookie_name(&config));
    match (expected, form.csrf.as_deref()) {
        (Some(expected), Some(submitted)) if same_text(&expected, submitted) => {}
        _ => {
            return Err(PageError::Forbidden(
                "The sign-in form has expired. Reload the page and try again.",
            ));
        }
    }
    let email = form.email.unwrap_or_default().trim().to_lowercase();
    let password = SecretString::from(form.password.unwrap_or_default());
    if email.is_empty() || email.chars().count() > Email::MAX_LEN {
        return login_form(
            &req,
            String::new(),
            Some("Enter the email address of your account."),
            None,
            StatusCode::BAD_REQUEST,
        );
    }
    let address = client_address(&req, &state);
    let reserved = {
        let state = state.clone();
        let email = email.clone();
        web::block(move || {
            let reservation = state.login_throttle.reserve(&email, &address)?;
            match state.identity.login_candidate(&email) {
                Ok(candidate) => Ok(Ok((reservation, candidate))),
                Err(error) => {
                    state.login_throttle.release(reservation)?;
                    Ok(Err(error))
                }
            }
        })
        .await?
    };
    let (reservation, candidate) = match reserved {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => return Err(login_failure(error)),
        Err(LoginThrottleError::Throttled(_)) => {
            return login_form(
                &req,
                email,
                Some("Too many failed sign-ins. Wait a minute and try again."),
                None,
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(LoginThrottleError::Store(_)) => return Err(PageError::Unavailable),
    };
    let user = match state.identity.check_password(candidate, &password).await {
        Ok(user) => user,
        Err(LoginError::InvalidCredentials) => {
            // The attempt keeps its cells: it failed.
            drop(reservation);
            return login_form(
                &req,
                email,
                Some("Invalid email or password."),
                None,
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(other) => {
            let throttle = state.login_throttle.clone();
            let _ = web::block(move || throttle.release(reservation)).await;
            return Err(login_failure(other));
        }
    };
    let issued = {
        let state = state.clone();
        web::block(move || {
            if let Err(error) = state.login_throttle.release(reservation) {
                tracing::warn!(%error, "console: could not release the sign-in reservation");
            }
            state.identity.start_console_session(user, config.sessions)
        })
        .await?
        .map_err(login_failure)?
    };
    signed_in(&req, issued.token.expose())
}

fn login_failure(error: LoginError) -> PageError {
    match error {
        LoginError::Repository(error) => PageError::from(error),
        LoginError::TokenLimit => PageError::Forbidden(
            "Your account holds the most tokens allowed. Revoke some and sign in again.",
        ),
        LoginError::InvalidCredentials | LoginError::Hashing(_) => PageError::Internal,
    }
}

/// Sets the session cookie, clears the sign-in cookie, and goes to the console.
fn signed_in(req: &HttpRequest, token: &str) -> Result<HttpResponse, PageError> {
    let (_, config) = context(req)?;
    let max_age = config.sessions.absolute.num_seconds();
    let mut response = redirect("/console");
    let cookies = [
        cookie(
            &config,
            session::session_cookie_name(&config),
            token,
            max_age,
        ),
        cookie(&config, login_cookie_name(&config), "", 0),
    ];
    for value in cookies {
        if let Ok(value) = value.parse() {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    Ok(response)
}

#[derive(Deserialize)]
struct LinkQuery {
    token: Option<String>,
}

/// The one-time sign-in link: redeemed once, then it is revoked.
async fn link(req: HttpRequest, query: web::Query<LinkQuery>) -> Result<HttpResponse, PageError> {
    let (state, config) = context(&req)?;
    let Some(token) = query.into_inner().token else {
        return Err(PageError::NotFound);
    };
    let redeemed =
        web::block(move || state.identity.redeem_console_link(&token, config.sessions)).await?;
    match redeemed {
        Ok(issued) => {
            let mut response = signed_in(&req, issued.token.expose())?;
            if let Ok(value) = "/console/account?done=link".parse() {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::LOCATION, value);
            }
            Ok(response)
        }
        Err(switchboard_application::identity::AuthenticateError::Repository(error)) => {
            Err(PageError::from(error))
        }
        Err(_) => Err(PageError::Forbidden(
            "This sign-in link has been used or has expired. Sign in with your email and password.",
        )),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

/// Sign-out: the session's token is revoked and the cookie cleared.
async fn logout(req: HttpRequest, form: web::Form<CsrfForm>) -> Result<HttpResponse, PageError> {
    let (state, config) = context(&req)?;
    let session = session::require(&req, None).await?;
    session.check_csrf(form.csrf.as_deref())?;
    let caller = session.caller;
    web::block(move || state.identity.end_console_session(caller)).await??;
    let mut response = redirect("/console/login?done=signed-out");
    if let Ok(value) = cookie(&config, session::session_cookie_name(&config), "", 0).parse() {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
}

/// The root: straight to the organization when there is one, else the list.
async fn home(req: HttpRequest) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = session::require(&req, None).await?;
    let nav = Nav::of(&state, &session, "home").await?;
    if let [only] = nav.orgs.as_slice() {
        return Ok(redirect(&format!(
            "/console/o/{}/configurations",
            only.handle
        )));
    }
    render(&HomePage { nav }, StatusCode::OK)
}

#[derive(Deserialize)]
struct SwitchQuery {
    org: Option<String>,
}

/// The organization switcher's target.
async fn switch(
    req: HttpRequest,
    query: web::Query<SwitchQuery>,
) -> Result<HttpResponse, PageError> {
    let handle = query.into_inner().org.unwrap_or_default();
    let session = session::require(&req, Some(&handle)).await?;
    let actor = session.actor()?;
    Ok(redirect(&format!(
        "/console/o/{}/configurations",
        actor.org_handle.as_str()
    )))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    from_link: bool,
    current_errors: Vec<String>,
    new_errors: Vec<String>,
}

#[derive(Deserialize)]
struct AccountQuery {
    done: Option<String>,
}

async fn account(
    req: HttpRequest,
    query: web::Query<AccountQuery>,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = session::require(&req, None).await?;
    let nav = Nav::of(&state, &session, "account")
        .await?
        .with_notice(crate::view::notice(query.done.as_deref()));
    let page = AccountPage {
        nav,
        from_link: session.from_link,
        current_errors: Vec::new(),
        new_errors: Vec::new(),
    };
    render(&page, StatusCode::OK)
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: Option<String>,
    current: Option<String>,
    new: Option<String>,
    confirm: Option<String>,
}

async fn set_password(
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let (state, _) = context(&req)?;
    let session = session::require(&req, None).await?;
    session.check_csrf(form.csrf.as_deref())?;
    let form = form.into_inner();
    let new = form.new.unwrap_or_default();
    let mut new_errors = Vec::new();
    let mut current_errors = Vec::new();
    if form.confirm.as_deref() != Some(new.as_str()) {
        new_errors.push("The two new passwords differ.".to_owned());
    } else {
        let console = switchboard_application::identity::ConsoleSession {
            caller: session.caller,
            actor: None,
            from_link: session.from_link,
        };
        let current = SecretString::from(form.current.unwrap_or_default());
        let new = SecretString::from(new);
        let identity = state.identity.clone();
        match web::block(move || identity.change_password(&console, &current, &new)).await? {
            Ok(()) => return Ok(redirect("/console/account?done=password")),
            Err(ChangePasswordError::WrongPassword) => {
                current_errors.push("The current password is wrong.".to_owned());
            }
            Err(ChangePasswordError::InvalidPassword) => {
                new_errors.push("Use 8 to 1024 characters.".to_owned());
            }
            Err(ChangePasswordError::Hashing(_)) => return Err(PageError::Internal),
            Err(ChangePasswordError::Repository(error)) => return Err(error.into()),
        }
    }
    let nav = Nav::of(&state, &session, "account").await?;
    let page = AccountPage {
        nav,
        from_link: session.from_link,
        current_errors,
        new_errors,
    };
    render(&page, StatusCode::BAD_REQUEST)
}

pub(super) fn register(scope: Scope) -> Scope {
    scope
        .route("/account", web::get().to(account))
        .route("/account/password", web::post().to(set_password))
        .route("", web::get().to(home))
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/link", web::get().to(link))
        .route("/switch", web::get().to(switch))
}
