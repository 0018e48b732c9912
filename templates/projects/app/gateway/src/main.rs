//! The app's gateway: answers `/` and calls the other services of the app in-process, at
//! `http://NAME.internal/` — only those its `calls` in the app's wasmforge.toml allow.

use wstd::http::body::Body;
use wstd::http::{Client, Error, Method, Request, Response, StatusCode};

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, Error> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => text(
            StatusCode::OK,
            "Hello from the gateway of {{name}}! Try /chain, /users/, /greet/ and /forbidden\n"
                .into(),
        ),
        // gateway → users → greet, each call in-process.
        (&Method::GET, "/chain") => {
            let (status, body) = fetch("http://users.internal/chain").await?;
            text(status, format!("gateway \u{2192} {body}"))
        }
        // The gateway may not call greet (its `calls` names only users): the host says 403.
        (&Method::GET, "/forbidden") => {
            let (status, body) = fetch("http://greet.internal/").await?;
            text(status, body)
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

/// GETs `url`: its status and body.
async fn fetch(url: &str) -> Result<(StatusCode, String), Error> {
    let response = Client::new()
        .send(Request::get(url).body(Body::empty())?)
        .await?;
    let status = response.status();
    let body = response.into_body().str_contents().await?.to_string();
    Ok((status, body))
}

fn text(status: StatusCode, body: String) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body.into())?)
}
