//! An HTTP component (the `wasi:http/proxy` world of WASI 0.2): every request gets a fresh
//! instance, so nothing is shared between requests unless the host grants it.

use wstd::http::body::Body;
use wstd::http::{Error, Method, Request, Response, StatusCode};

#[wstd::http_server]
async fn main(request: Request<Body>) -> Result<Response<Body>, Error> {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => Ok(Response::builder()
            .header("content-type", "text/plain; charset=utf-8")
            .header("x-served-by", "{{name}}")
            .body("Hello from {{name}}, a WebAssembly HTTP component!\n".into())?),
        // The request's body, streamed back as it arrives.
        (&Method::POST, "/echo") => {
            let mut response = Response::builder();
            if let Some(kind) = request.headers().get("content-type") {
                response = response.header("content-type", kind);
            }
            Ok(response.body(request.into_body())?)
        }
        (_, "/" | "/echo") => Ok(Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header("allow", if request.uri().path() == "/" { "GET" } else { "POST" })
            .body(Body::empty())?),
        _ => Ok(Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found\n".into())?),
    }
}
