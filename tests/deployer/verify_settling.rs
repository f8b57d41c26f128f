//! `catup verify` right after a fresh deploy: the function role's inline policy takes effect
//! eventually, so S3 answers the presigned PUT 403 AccessDenied and the gallery answers 502 for
//! a while. verify waits for them (bounded, saying what it waits for) instead of failing.
//!
//! The Function URL, S3 and the site are one small server on loopback that answers as they
//! do, with the refusals first; moto is the AWS verify connects to.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::common::{run_catup, Run, World};
use crate::dev::checks;

const KEY: &str = "images/1-cat.png";
const S3_ACCESS_DENIED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R</RequestId><HostId>H</HostId></Error>";

/// How many times each refusal is still to be answered, and what was uploaded.
#[derive(Default)]
struct State {
    refusals: HashMap<&'static str, usize>,
    uploaded: Vec<u8>,
}

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, path) = (words.next()?.to_owned(), words.next()?.to_owned());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let Some((name, value)) = header.trim_end().split_once(':') else {
            break;
        };
        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
    }
    let length = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn respond(mut stream: TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// The stack as a browser sees it, at `base`: `/api` (the Function URL), `/s3/` (the
/// presigned URLs), `/site/` (the website).
fn answer(base: &str, state: &Mutex<State>, request: Request, stream: TcpStream) {
    let origin = request.headers.get("origin").cloned().unwrap_or_default();
    let site = format!("{base}/site");
    let allow = vec![("access-control-allow-origin", origin.clone())];
    let refused = |what: &'static str| {
        let mut state = state.lock().unwrap();
        let left = state.refusals.entry(what).or_default();
        let refuse = *left > 0;
        *left = left.saturating_sub(1);
        refuse
    };
    let object = format!("/s3/{KEY}");
    match (request.method.as_str(), request.path.as_str()) {
        ("OPTIONS", path) if path == object && origin == site => {
            let mut headers = allow;
            headers.push(("access-control-allow-methods", "PUT".into()));
            respond(stream, "200 OK", &headers, b"")
        }
        ("OPTIONS", _) => respond(stream, "200 OK", &[], b""),
        ("POST", "/api") => {
            let body = serde_json::json!({"uploadUrl": format!("{base}{object}"), "key": KEY,
                "method": "PUT", "headers": {"content-type": "image/png"}});
            respond(stream, "200 OK", &allow, body.to_string().as_bytes())
        }
        ("PUT", path) if path == object => {
            if refused("PUT") {
                return respond(stream, "403 Forbidden", &[], S3_ACCESS_DENIED.as_bytes());
            }
            state.lock().unwrap().uploaded = request.body;
            respond(stream, "200 OK", &[], b"")
        }
        ("GET", "/api") => {
            if refused("gallery") {
                let body = br#"{"error":"storage_unavailable"}"#;
                return respond(stream, "502 Bad Gateway", &allow, body);
            }
            let body =
                serde_json::json!({"images": [{"key": KEY, "url": format!("{base}{object}")}]});
            respond(stream, "200 OK", &allow, body.to_string().as_bytes())
        }
        ("GET", path) if path == object => {
            let bytes = state.lock().unwrap().uploaded.clone();
            respond(stream, "200 OK", &[], &bytes)
        }
        ("GET", "/site/config.js") => {
            let api = serde_json::Value::from(format!("{base}/api"));
            let body = format!("window.CATUP = {{\"apiUrl\": {api}}};\n");
            respond(stream, "200 OK", &[], body.as_bytes())
        }
        _ => respond(stream, "404 Not Found", &[], b""),
    }
}

/// Starts the server with `puts` PUTs refused and `galleries` gallery GETs answered 502; its base URL.
fn fresh_stack(puts: usize, galleries: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(State::default()));
    state.lock().unwrap().refusals = HashMap::from([("PUT", puts), ("gallery", galleries)]);
    let served = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if let Some(request) = read_request(&stream) {
                answer(&served, &state, request, stream);
            }
        }
    });
    base
}

/// `catup verify --json` of the stack at `base` (its test object deleted from the stack's
/// images bucket in moto), every wait a hundredth as long: its 2 minutes take 1.2 s.
fn verify_at(w: &World, base: &str) -> Run {
    let mut env = w.env_via(&w.moto.endpoint());
    env.push(("CATUP_SETTLE_SCALE", "0.01".into()));
    let (api, site) = (format!("{base}/api"), format!("{base}/site/"));
    let args = [
        "--stack",
        &w.stack,
        "verify",
        "--json",
        "--function-url",
        &api,
    ];
    run_catup(
        &w.dir,
        &env,
        &[&args[..], &["--website-url", &site]].concat(),
    )
}

#[tokio::test]
async fn verify_waits_for_the_role_s_policy_after_a_fresh_deploy() {
    let w = World::new();
    // verify deletes its test object from the stack's images bucket when done.
    let s3 = w.s3().await;
    s3.create_bucket()
        .bucket(w.images_bucket())
        .send()
        .await
        .unwrap();
    let run = verify_at(&w, &fresh_stack(3, 3));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let results = checks(&run.json());
    assert!(results.iter().all(|(_, passed)| *passed), "{results:?}");
    for waited in [
        "verify: PUT the image to the presigned URL: not yet (PUT answered 403 Forbidden: <?xml version=\"1.0\" encoding=\"UTF-8\"?> <Error><Code>AccessDenied</Code>",
        "verify: GET lists the new image first: not yet (GET answered 502 Bad Gateway",
        "waiting up to 2 minutes for the function role's policy to take effect, retrying in",
    ] {
        assert!(run.stderr.contains(waited), "{waited:?} not in:\n{}", run.stderr);
    }
}

/// The wait is bounded: a PUT refused for good fails its check after the wait, naming the
/// answer.
#[tokio::test]
async fn verify_gives_up_on_a_put_refused_for_good() {
    let w = World::new();
    let started = std::time::Instant::now();
    let run = verify_at(&w, &fresh_stack(usize::MAX, 0));
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let report = run.json();
    let put = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "PUT the image to the presigned URL")
        .unwrap();
    assert_eq!(put["passed"], false);
    assert!(
        run.stderr.contains("function role's policy to take effect"),
        "it waited first:\n{}",
        run.stderr
    );
    assert!(
        put["detail"].as_str().unwrap().contains("AccessDenied"),
        "{put}"
    );
}
