//! Citizen accounts (basic Bürgerkonto; OIDC comes later): register with
//! email confirmation (the emailed link opens a page whose button confirms:
//! a GET alone changes nothing, so mail scanners that follow links do not
//! confirm), password reset by email, log in and out, "Meine Anträge",
//! profile data that prefills forms. (The applicant's pages of an application reached through
//! the account are part of `applications`.)

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use rathaus_app::{
    Actor, UseCaseError,
    accounts::{Login, NewPassword, Registration},
};
use rathaus_domain::ValidationErrors;
use rathaus_storage::accounts::{PROFILE_FIELDS, TokenPurpose};
use serde::Deserialize;
use tower_sessions::Session;

use super::views::{AccountField, AccountFormPage, AccountHomePage, AccountNoticePage, AccountRow};
use crate::platform::{
    AppState,
    auth::{CITIZEN_KEY, SessionCitizen, current_citizen, require_citizen, urlencode, with_staff},
    context::Ctx,
    error::AppError,
    i18n::{self, Lang},
    layout::{Page, no_store},
    routes::{Routes, get, post},
    security::{CsrfForm, client_ip, csrf_token},
};

pub fn routes() -> Routes {
    Routes::new("accounts")
        .route("/konto", get(home))
        .route("/konto/registrieren", get(register_form).post(register))
        .route(
            "/konto/bestaetigen/{token}",
            get(confirm_form).post(confirm),
        )
        .route("/konto/passwort-vergessen", get(forgot_form).post(forgot))
        .route("/konto/passwort-neu/{token}", get(reset_form).post(reset))
        .route("/konto/anmelden", get(login_form).post(login))
        .route("/konto/abmelden", post(logout))
        .route("/konto/profil", get(profile_form).post(save_profile))
}

/// Only local paths below /konto or a service are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if (n.starts_with("/konto") || n.starts_with("/leistungen/"))
                && !n.starts_with("//")
                && !n.contains("..")
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_string()
        }
        _ => "/konto".to_string(),
    }
}

fn field(
    lang: Lang,
    name: &str,
    kind: &'static str,
    autocomplete: &'static str,
    value: &str,
    errs: &[(String, String)],
) -> AccountField {
    AccountField {
        name: name.to_string(),
        label: i18n::t(lang, &format!("field.{name}")).to_string(),
        kind,
        autocomplete,
        value: value.to_string(),
        error: errs.iter().find(|(f, _)| f == name).map(|(_, m)| m.clone()),
        hint: None,
    }
}

fn worded(lang: Lang, errs: &ValidationErrors) -> Vec<(String, String)> {
    errs.0
        .iter()
        .map(|e| (e.field.clone(), i18n::field_error(lang, &e.field, e.code)))
        .collect()
}

#[derive(Deserialize, Default)]
struct RegisterForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
}

fn register_page(
    ctx: &Ctx,
    csrf: String,
    email: &str,
    errs: &[(String, String)],
    summary: Option<String>,
) -> AccountFormPage {
    let lang = ctx.lang;
    let mut page = Page::new(ctx, ctx.t("account.register_title"));
    page.csrf = Some(csrf);
    let mut password = field(lang, "password", "password", "new-password", "", errs);
    password.hint = Some(ctx.t("account.password_hint").to_string());
    AccountFormPage {
        page,
        intro: ctx.t("account.register_intro").to_string(),
        action: "/konto/registrieren".into(),
        fields: vec![
            field(lang, "email", "email", "email", email, errs),
            password,
            field(
                lang,
                "password_repeat",
                "password",
                "new-password",
                "",
                errs,
            ),
        ],
        submit: ctx.t("account.register_submit").to_string(),
        summary,
        errors: errs.to_vec(),
        notice: None,
        links: vec![(
            "/konto/anmelden".into(),
            ctx.t("account.have_account").to_string(),
        )],
    }
}

async fn register_form(ctx: Ctx, session: Session) -> Result<Response, AppError> {
    ctx.tenant()?;
    Ok(register_page(&ctx, csrf_token(&session).await?, "", &[], None).into_response())
}

/// Registers: the address always gets an email (confirm, or "you already
/// have an account" with a reset link) and the visitor the same answer
/// either way (no account enumeration).
async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    ext: axum::http::Extensions,
    form: CsrfForm<RegisterForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let CsrfForm { form, session } = form;
    let csrf = csrf_token(&session).await?;
    let registration = Registration {
        email: form.email,
        password: form.password,
        password_repeat: form.password_repeat,
    };
    if let Err(errs) = registration.check() {
        let w = worded(ctx.lang, &errs);
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            register_page(
                &ctx,
                csrf,
                registration.email.trim(),
                &w,
                Some(ctx.t("login.error_summary").to_string()),
            ),
        )
            .into_response());
    }
    // Every registration mails the address: limited per client and per
    // address, so nobody floods a mailbox through this form.
    if !state.limiter.check_draft(client_ip(&ext))
        || !state.limiter.check(
            client_ip(&ext),
            &format!("mail:{}", registration.email.trim().to_lowercase()),
        )
    {
        return Err(AppError::RateLimited);
    }
    state
        .app
        .register(&Actor::Anonymous { tenant }, registration)
        .await?;
    notice(
        &state,
        &ctx,
        &session,
        "account.check_mail_title",
        if ctx.demo_mode {
            "account.check_mail_demo"
        } else {
            "account.check_mail"
        },
        None,
    )
    .await
}

async fn notice(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> Result<Response, AppError> {
    let page = with_staff(state, ctx, session, Page::new(ctx, ctx.t(title))).await?;
    Ok(AccountNoticePage {
        page,
        text: ctx.t(text).to_string(),
        link: link.map(|(h, l)| (h.to_string(), ctx.t(l).to_string())),
    }
    .into_response())
}

/// A page with one form: intro, the fields, the button.
#[allow(clippy::too_many_arguments)]
fn simple_form(
    ctx: &Ctx,
    csrf: String,
    title: &str,
    intro: &str,
    action: String,
    fields: Vec<AccountField>,
    submit: &str,
    errs: &[(String, String)],
) -> AccountFormPage {
    let mut page = Page::new(ctx, ctx.t(title));
    page.csrf = Some(csrf);
    AccountFormPage {
        page,
        intro: ctx.t(intro).to_string(),
        action,
        fields,
        submit: ctx.t(submit).to_string(),
        summary: (!errs.is_empty()).then(|| ctx.t("login.error_summary").to_string()),
        errors: errs.to_vec(),
        notice: None,
        links: vec![],
    }
}

/// The page of a link that is unknown, used or expired (404).
async fn invalid_link(
    state: &AppState,
    ctx: &Ctx,
    session: &Session,
    purpose: TokenPurpose,
) -> Result<Response, AppError> {
    let (title, text, link) = match purpose {
        TokenPurpose::Confirm => (
            "account.confirm_invalid_title",
            "account.confirm_invalid",
            ("/konto/registrieren", "account.register_title"),
        ),
        TokenPurpose::Reset => (
            "account.reset_invalid_title",
            "account.reset_invalid",
            ("/konto/passwort-vergessen", "account.forgot_title"),
        ),
    };
    Ok((
        StatusCode::NOT_FOUND,
        notice(state, ctx, session, title, text, Some(link)).await?,
    )
        .into_response())
}

/// The emailed confirmation link: a page with the button that confirms. A
/// GET confirms nothing.
async fn confirm_form(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    match state
        .app
        .check_account_token(tenant, &token, TokenPurpose::Confirm)
        .await
    {
        Ok(()) => {}
        Err(UseCaseError::NotFound) => {
            return invalid_link(&state, &ctx, &session, TokenPurpose::Confirm).await;
        }
        Err(e) => return Err(e.into()),
    }
    let p = simple_form(
        &ctx,
        csrf_token(&session).await?,
        "account.confirm_title",
        "account.confirm_intro",
        format!("/konto/bestaetigen/{}", urlencode(&token)),
        vec![],
        "account.confirm_submit",
        &[],
    );
    Ok(no_store(p.into_response()))
}

#[derive(Deserialize)]
struct Empty {}

/// The confirmation button (POST with CSRF token): confirms the account with
/// the password chosen in its registration; the link is used up.
async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    form: CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let session = form.session;
    match state.app.confirm_account(tenant, &token).await {
        Ok(_) => {
            notice(
                &state,
                &ctx,
                &session,
                "account.confirmed_title",
                "account.confirmed",
                Some(("/konto/anmelden", "account.login_title")),
            )
            .await
        }
        Err(UseCaseError::NotFound) => {
            invalid_link(&state, &ctx, &session, TokenPurpose::Confirm).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
struct ForgotForm {
    #[serde(default)]
    email: String,
}

fn forgot_page(ctx: &Ctx, csrf: String, email: &str, errs: &[(String, String)]) -> AccountFormPage {
    let mut p = simple_form(
        ctx,
        csrf,
        "account.forgot_title",
        "account.forgot_intro",
        "/konto/passwort-vergessen".into(),
        vec![field(ctx.lang, "email", "email", "email", email, errs)],
        "account.forgot_submit",
        errs,
    );
    p.links = vec![(
        "/konto/anmelden".into(),
        ctx.t("account.login_title").to_string(),
    )];
    p
}

async fn forgot_form(ctx: Ctx, session: Session) -> Result<Response, AppError> {
    ctx.tenant()?;
    Ok(forgot_page(&ctx, csrf_token(&session).await?, "", &[]).into_response())
}

/// "Forgot password": the same answer whether or not the address has an
/// account; an account gets the email with the reset link.
async fn forgot(
    State(state): State<AppState>,
    ctx: Ctx,
    ext: axum::http::Extensions,
    form: CsrfForm<ForgotForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let CsrfForm { form, session } = form;
    // Every request for a valid address may mail it: limited per client
    // and per address, so nobody floods a mailbox through this form.
    if let Ok(email) = rathaus_domain::identity::Email::parse(&form.email)
        && (!state.limiter.check_draft(client_ip(&ext))
            || !state
                .limiter
                .check(client_ip(&ext), &format!("mail:{}", email.as_str())))
    {
        return Err(AppError::RateLimited);
    }
    match state
        .app
        .request_password_reset(&Actor::Anonymous { tenant }, &form.email)
        .await
    {
        Ok(()) => {}
        Err(UseCaseError::Validation(errs)) => {
            let w = worded(ctx.lang, &errs);
            let csrf = csrf_token(&session).await?;
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                forgot_page(&ctx, csrf, form.email.trim(), &w),
            )
                .into_response());
        }
        Err(e) => return Err(e.into()),
    }
    notice(
        &state,
        &ctx,
        &session,
        "account.forgot_sent_title",
        "account.forgot_sent",
        Some(("/konto/anmelden", "account.login_title")),
    )
    .await
}

#[derive(Deserialize, Default)]
struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
}

fn reset_page(ctx: &Ctx, csrf: String, token: &str, errs: &[(String, String)]) -> AccountFormPage {
    let lang = ctx.lang;
    let mut password = field(lang, "password", "password", "new-password", "", errs);
    password.hint = Some(ctx.t("account.password_hint").to_string());
    simple_form(
        ctx,
        csrf,
        "account.reset_title",
        "account.reset_intro",
        format!("/konto/passwort-neu/{}", urlencode(token)),
        vec![
            password,
            field(
                lang,
                "password_repeat",
                "password",
                "new-password",
                "",
                errs,
            ),
        ],
        "account.reset_submit",
        errs,
    )
}

/// The emailed reset link: the form for the new password (looking does not
/// use the link up).
async fn reset_form(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    match state
        .app
        .check_account_token(tenant, &token, TokenPurpose::Reset)
        .await
    {
        Ok(()) => {}
        Err(UseCaseError::NotFound) => {
            return invalid_link(&state, &ctx, &session, TokenPurpose::Reset).await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(no_store(
        reset_page(&ctx, csrf_token(&session).await?, &token, &[]).into_response(),
    ))
}

/// Sets the new password: the link is used up and every session of the
/// account ends (this browser's too: it logs in with the new password).
async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    form: CsrfForm<ResetForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.tenant_id();
    let CsrfForm { form, session } = form;
    let input = NewPassword {
        password: form.password,
        password_repeat: form.password_repeat,
    };
    match state.app.reset_password(tenant, &token, input).await {
        Ok(_) => {}
        Err(UseCaseError::NotFound) => {
            return invalid_link(&state, &ctx, &session, TokenPurpose::Reset).await;
        }
        Err(UseCaseError::Validation(errs)) => {
            let w = worded(ctx.lang, &errs);
            let csrf = csrf_token(&session).await?;
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                reset_page(&ctx, csrf, &token, &w),
            )
                .into_response());
        }
        Err(e) => return Err(e.into()),
    }
    if session.get::<SessionCitizen>(CITIZEN_KEY).await?.is_some() {
        session.flush().await?;
    }
    notice(
        &state,
        &ctx,
        &session,
        "account.reset_done_title",
        "account.reset_done",
        Some(("/konto/anmelden", "account.login_title")),
    )
    .await
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
    logged_out: Option<String>,
}

fn login_page(
    ctx: &Ctx,
    csrf: String,
    email: &str,
    next: &str,
    errs: &[(String, String)],
    summary: Option<String>,
) -> AccountFormPage {
    let lang = ctx.lang;
    let mut page = Page::new(ctx, ctx.t("account.login_title"));
    page.csrf = Some(csrf);
    AccountFormPage {
        page,
        intro: ctx.t("account.login_intro").to_string(),
        action: format!("/konto/anmelden?next={}", urlencode(next)),
        fields: vec![
            field(lang, "email", "email", "username", email, errs),
            field(lang, "password", "password", "current-password", "", errs),
        ],
        submit: ctx.t("account.login_submit").to_string(),
        summary,
        errors: errs.to_vec(),
        notice: None,
        links: vec![
            (
                "/konto/registrieren".into(),
                ctx.t("account.no_account").to_string(),
            ),
            (
                "/konto/passwort-vergessen".into(),
                ctx.t("account.forgot_link").to_string(),
            ),
        ],
    }
}

async fn login_form(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    ctx.tenant()?;
    let next = safe_next(q.next.as_deref());
    if current_citizen(&state, &ctx, &session).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let mut p = login_page(&ctx, csrf_token(&session).await?, "", &next, &[], None);
    p.notice = q
        .logged_out
        .map(|_| ctx.t("account.logged_out").to_string());
    Ok(p.into_response())
}

#[derive(Deserialize, Default)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ext: axum::http::Extensions,
    Query(q): Query<NextQuery>,
    form: CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let tenant = ctx.tenant()?.clone();
    let CsrfForm { form, session } = form;
    let next = safe_next(q.next.as_deref());
    let csrf = csrf_token(&session).await?;
    let fail = |status: StatusCode, errs: Vec<(String, String)>, summary: &str, csrf: String| {
        (
            status,
            login_page(
                &ctx,
                csrf,
                form.email.trim(),
                &next,
                &errs,
                Some(ctx.t(summary).to_string()),
            ),
        )
            .into_response()
    };
    let input = Login {
        email: form.email.clone(),
        password: form.password.clone(),
    };
    let email = match input.check() {
        Ok(email) => email,
        Err(errs) => {
            return Ok(fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                worded(ctx.lang, &errs),
                "login.error_summary",
                csrf,
            ));
        }
    };
    if !state
        .limiter
        .check(client_ip(&ext), &format!("citizen:{}", email.as_str()))
    {
        return Ok(fail(
            StatusCode::TOO_MANY_REQUESTS,
            vec![],
            "login.rate_limited",
            csrf,
        ));
    }
    let c = match state.app.citizen_login(tenant.tenant_id(), input).await {
        Ok(c) => c,
        Err(UseCaseError::Unauthenticated) => {
            return Ok(fail(
                StatusCode::UNAUTHORIZED,
                vec![],
                "login.invalid",
                csrf,
            ));
        }
        Err(UseCaseError::Forbidden) => {
            return Ok(fail(
                StatusCode::FORBIDDEN,
                vec![],
                "account.not_confirmed",
                csrf,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    // New session id on login; a staff login in the same browser ends.
    session.cycle_id().await?;
    session.clear().await;
    session
        .insert(
            CITIZEN_KEY,
            SessionCitizen {
                citizen_id: c.id,
                tenant_id: tenant.id,
                since_ms: rathaus_storage::now_ms(),
            },
        )
        .await?;
    csrf_token(&session).await?;
    Ok(Redirect::to(&next).into_response())
}

async fn logout(form: CsrfForm<Empty>) -> Result<Response, AppError> {
    form.session.flush().await?;
    Ok(Redirect::to("/konto/anmelden?logged_out=1").into_response())
}

async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
) -> Result<Response, AppError> {
    let c = match require_citizen(&state, &ctx, &session).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let actor = Actor::Citizen {
        tenant: ctx.tenant()?.tenant_id(),
        account: c.id,
    };
    let english = ctx.lang == Lang::En;
    let rows = state
        .app
        .my_applications(&actor)
        .await?
        .into_iter()
        .map(|row| AccountRow {
            reference: row.application.reference.clone(),
            title: row
                .title
                .map(|t| t.get(english).to_string())
                .unwrap_or_default(),
            submitted: row.application.submitted_at.format("%d.%m.%Y").to_string(),
            status: row
                .case
                .map(|c| ctx.t(&format!("case_status.{}", c.status().code())))
                .unwrap_or(""),
        })
        .collect();
    let page = with_staff(
        &state,
        &ctx,
        &session,
        Page::new(&ctx, ctx.t("account.title")),
    )
    .await?;
    Ok(no_store(
        AccountHomePage {
            page,
            email: c.email,
            rows,
        }
        .into_response(),
    ))
}

fn profile_page(
    ctx: &Ctx,
    csrf: String,
    values: &std::collections::HashMap<String, String>,
    notice: Option<String>,
) -> AccountFormPage {
    let mut page = Page::new(ctx, ctx.t("account.profile_title"));
    page.csrf = Some(csrf);
    let english = ctx.lang == Lang::En;
    AccountFormPage {
        page,
        intro: ctx.t("account.profile_intro").to_string(),
        action: "/konto/profil".into(),
        fields: PROFILE_FIELDS
            .iter()
            .map(|(k, de, en)| AccountField {
                name: k.to_string(),
                label: if english { en } else { de }.to_string(),
                kind: if *k == "tel" { "tel" } else { "text" },
                autocomplete: k,
                value: values.get(*k).cloned().unwrap_or_default(),
                error: None,
                hint: None,
            })
            .collect(),
        submit: ctx.t("account.profile_submit").to_string(),
        summary: None,
        errors: vec![],
        notice,
        links: vec![("/konto".into(), ctx.t("account.back_to_list").to_string())],
    }
}

async fn profile_form(
    State(state): State<AppState>,
    ctx: Ctx,
    session: Session,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let c = match require_citizen(&state, &ctx, &session).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let mut p = profile_page(
        &ctx,
        csrf_token(&session).await?,
        &c.profile_map(),
        q.get("saved")
            .map(|_| ctx.t("account.profile_saved").to_string()),
    );
    p.page.citizen = Some(c.email);
    Ok(no_store(p.into_response()))
}

async fn save_profile(
    State(state): State<AppState>,
    ctx: Ctx,
    form: CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, AppError> {
    let CsrfForm { form, session } = form;
    let c = match require_citizen(&state, &ctx, &session).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let actor = Actor::Citizen {
        tenant: ctx.tenant()?.tenant_id(),
        account: c.id,
    };
    match state.app.save_profile(&actor, form.clone()).await {
        Ok(_) => {}
        Err(UseCaseError::Validation(errs)) => {
            let w = worded(ctx.lang, &errs);
            let mut p = profile_page(&ctx, csrf_token(&session).await?, &form, None);
            p.summary = Some(ctx.t("login.error_summary").to_string());
            for f in &mut p.fields {
                f.error = w.iter().find(|(n, _)| *n == f.name).map(|(_, m)| m.clone());
            }
            p.errors = w;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to("/konto/profil?saved=1").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            safe_next(Some("/konto/antraege/MS-2026-000001")),
            "/konto/antraege/MS-2026-000001"
        );
        assert_eq!(
            safe_next(Some("/leistungen/hund/antrag")),
            "/leistungen/hund/antrag"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/konto");
        assert_eq!(safe_next(Some("https://evil.example")), "/konto");
        assert_eq!(safe_next(Some("/konto/../staff")), "/konto");
        assert_eq!(safe_next(None), "/konto");
        assert_eq!(urlencode("/konto?a=b"), "/konto%3Fa%3Db");
    }
}
