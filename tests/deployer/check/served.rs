//! A served copy of a `catup dev` app with one of the lecture's broken settings: its own
//! website (the dev site's pages, its own config.js) and its own Function URL (the dev
//! function behind it, the copy's CORS in front), each on its own loopback port. And a gate
//! in front of moto that checks a presigned request's signature as S3 does (moto does not):
//! a PUT with another Content-Type than the one signed is refused with SignatureDoesNotMatch.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

type Request = http::Request<Bytes>;
type Response = http::Response<Full<Bytes>>;
type Answer = Pin<Box<dyn Future<Output = Response> + Send>>;
type Handler = Arc<dyn Fn(Request) -> Answer + Send + Sync>;

/// What the copy gets wrong (or, `Faithful`, nothing: the control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Faithful,
    /// The images bucket's CORS holds the site's origin with a trailing slash.
    TrailingSlashInBucketCors,
    /// The function sets `Access-Control-Allow-Origin: *` itself; the URL adds its own.
    FunctionAddsAllowOrigin,
    /// config.js points at the website instead of the Function URL.
    StaleConfig,
    /// The function presigns the PUT for image/jpeg whatever the page asks for.
    SignedForAnotherType,
    /// The Function URL has no CORS configuration: preflights reach the function.
    NoFunctionCors,
    /// Not a mistake: the stack makes thumbnails, which the gallery lists (here, the image's
    /// own URL stands for its thumbnail).
    MakesThumbnails,
}

/// A served copy: where a teacher would be sent, and the origin its pages run in.
pub struct Copy {
    pub setting: Setting,
    pub website_url: String,
    pub origin: String,
    _servers: [tokio::task::JoinHandle<()>; 2],
}

async fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// Serves `handler` on `listener` until the task is dropped... or aborted.
fn serve(listener: TcpListener, handler: Handler) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        Ok::<_, Infallible>(handler(http::Request::from_parts(parts, body)).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sends `request` to `base` (same path and query, same body) with `headers` kept; the
/// answer with every header but CORS's, which the caller sets.
async fn forward(client: &reqwest::Client, base: &str, request: &Request, body: Bytes) -> Response {
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let mut outgoing = client.request(request.method().clone(), url).body(body);
    for (name, value) in request.headers() {
        let kept = [
            "content-type",
            "access-control-request-method",
            "access-control-request-headers",
        ];
        if kept.contains(&name.as_str()) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.expect("the dev app answers");
    let mut response = http::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        let hop = name == "content-length" || name == "transfer-encoding";
        if !name.as_str().starts_with("access-control-") && !hop {
            response = response.header(name, value);
        }
    }
    response
        .body(Full::new(answer.bytes().await.unwrap()))
        .unwrap()
}

impl Copy {
    /// Serves a copy of the dev app at `dev_site` / `dev_api` with `setting` broken.
    pub async fn serve(dev_site: &str, dev_api: &str, setting: Setting) -> Copy {
        let (site, site_port) = listener().await;
        let (api, api_port) = listener().await;
        let origin = format!("http://localhost:{site_port}");
        let api_url = match setting {
            Setting::StaleConfig => format!("{origin}/"),
            _ => format!("http://localhost:{api_port}/"),
        };
        let (dev_site, dev_api) = (dev_site.to_owned(), dev_api.to_owned());
        let site_handler: Handler = Arc::new(move |request| {
            let (dev_site, api_url) = (dev_site.clone(), api_url.clone());
            Box::pin(async move { website(&dev_site, &api_url, request).await })
        });
        let allowed = origin.clone();
        let api_handler: Handler = Arc::new(move |request| {
            let (dev_api, allowed) = (dev_api.clone(), allowed.clone());
            Box::pin(async move { function_url(&dev_api, &allowed, setting, request).await })
        });
        Copy {
            setting,
            website_url: format!("{origin}/"),
            origin,
            _servers: [serve(site, site_handler), serve(api, api_handler)],
        }
    }

    /// The origin the images bucket's CORS must hold for this copy.
    pub fn bucket_cors_origin(&self) -> String {
        match self.setting {
            Setting::TrailingSlashInBucketCors => format!("{}/", self.origin),
            _ => self.origin.clone(),
        }
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        for server in &self._servers {
            server.abort();
        }
    }
}

/// The copy's website: the dev site's pages, and a config.js naming `api_url`.
async fn website(dev_site: &str, api_url: &str, request: Request) -> Response {
    if request.uri().path() == "/config.js" {
        let body = format!("window.CAT_UPLOAD_CONFIG = {{ apiBaseUrl: \"{api_url}\" }};\n");
        return http::Response::builder()
            .header("content-type", "application/javascript")
            .header("cache-control", "no-cache")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
    }
    forward(&client(), dev_site, &request, Bytes::new()).await
}

/// The copy's Function URL: the dev function, with the copy's CORS (or its lack) around it.
async fn function_url(
    dev_api: &str,
    allowed: &str,
    setting: Setting,
    request: Request,
) -> Response {
    let origin = request
        .headers()
        .get("origin")
        .and_then(|o| o.to_str().ok());
    let ours = origin == Some(allowed);
    let preflight = request.method() == http::Method::OPTIONS
        && request
            .headers()
            .contains_key("access-control-request-method");
    let cors = setting != Setting::NoFunctionCors;
    if preflight && cors {
        let mut answer = http::Response::builder().status(200);
        if ours {
            answer = answer
                .header("access-control-allow-origin", allowed)
                .header("access-control-allow-methods", "GET, POST")
                .header("access-control-allow-headers", "content-type");
        }
        return answer.body(Full::new(Bytes::new())).unwrap();
    }
    let mut body = request.body().clone();
    if setting == Setting::SignedForAnotherType && request.method() == http::Method::POST {
        let text = String::from_utf8_lossy(&body).replace("image/png", "image/jpeg");
        body = Bytes::from(text);
    }
    let mut response = forward(&client(), dev_api, &request, body).await;
    if request.method() == http::Method::GET {
        response = match setting {
            Setting::MakesThumbnails => with_thumbnails(response).await,
            // catup dev makes thumbnails; every other copy plays a stack that makes none.
            _ => without_thumbnails(response).await,
        };
    }
    let headers = response.headers_mut();
    if setting == Setting::FunctionAddsAllowOrigin {
        headers.append("access-control-allow-origin", "*".parse().unwrap());
    }
    if cors && ours {
        headers.append("access-control-allow-origin", allowed.parse().unwrap());
    }
    response
}

/// A gallery answer whose every image lists a thumbnail.
async fn with_thumbnails(response: Response) -> Response {
    each_image(response, |image| {
        image["thumbnailUrl"] = image["url"].clone();
    })
    .await
}

/// A gallery answer with no thumbnail at all.
async fn without_thumbnails(response: Response) -> Response {
    each_image(response, |image| {
        if let Some(image) = image.as_object_mut() {
            image.remove("thumbUrl");
        }
    })
    .await
}

/// The gallery answer with `change` made to each image (any other answer as it is).
async fn each_image(response: Response, change: impl Fn(&mut serde_json::Value)) -> Response {
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let Ok(mut gallery) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return http::Response::from_parts(parts, Full::new(body));
    };
    if let Some(images) = gallery["images"].as_array_mut() {
        images.iter_mut().for_each(change);
    }
    let body = Bytes::from(gallery.to_string());
    http::Response::from_parts(parts, Full::new(body))
}

/// A gate in front of moto at `upstream`: every request forwarded, a presigned one only
/// when its signature holds for the headers sent (test credentials, us-east-1), as S3 does.
pub struct Gate {
    pub endpoint: String,
    server: tokio::task::JoinHandle<()>,
}

impl Gate {
    pub async fn start(upstream: &str) -> Gate {
        let (listener, port) = listener().await;
        let upstream = upstream.to_owned();
        let handler: Handler = Arc::new(move |request| {
            let upstream = upstream.clone();
            Box::pin(async move { gate(&upstream, request).await })
        });
        Gate {
            endpoint: format!("http://127.0.0.1:{port}"),
            server: serve(listener, handler),
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.server.abort();
    }
}

const SIGNATURE_DOES_NOT_MATCH: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message></Error>";

async fn gate(upstream: &str, request: Request) -> Response {
    // A preflight is not authenticated: S3 answers it from the bucket's CORS alone.
    let signed_query = request
        .uri()
        .query()
        .is_some_and(|q| q.contains("X-Amz-Signature="));
    let preflight = request.method() == http::Method::OPTIONS;
    if signed_query && !preflight && !signature_holds(&request) {
        return http::Response::builder()
            .status(403)
            .header("content-type", "application/xml")
            .body(Full::new(Bytes::from_static(
                SIGNATURE_DOES_NOT_MATCH.as_bytes(),
            )))
            .unwrap();
    }
    let body = request.body().clone();
    let client = client();
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{upstream}{path}");
    let mut outgoing = client.request(request.method().clone(), url).body(body);
    for (name, value) in request.headers() {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.expect("moto answers");
    let mut response = http::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            response = response.header(name, value);
        }
    }
    response
        .body(Full::new(answer.bytes().await.unwrap()))
        .unwrap()
}

/// Whether a presigned request's signature is the one its URL and headers give.
fn signature_holds(request: &Request) -> bool {
    let host = request
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let presigned = catup_testkit::sigv4::Presigned::parse(&format!("http://{host}{path}"));
    let mut sent = Vec::new();
    for name in presigned.signed_headers() {
        if name == "host" {
            continue;
        }
        match request.headers().get(name).and_then(|v| v.to_str().ok()) {
            Some(value) => sent.push((name, value)),
            None => return false,
        }
    }
    let method = request.method().as_str();
    let expected =
        presigned.expected_signature(method, &sent, "testing", catup_testkit::TEST_REGION);
    expected == presigned.param("X-Amz-Signature")
}
