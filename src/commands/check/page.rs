//! What a browser does first: load the page, then the config.js it names, and take the
//! Function URL from it. Whatever tool deployed the site, its config.js sets a URL (the
//! lecture's `apiBaseUrl`, or the first http(s) string it holds).

use anyhow::Context as _;
use reqwest::Url;

use crate::commands::verification::checker::expect_200;
use crate::commands::verification::hint::{self, Hint};

/// The site as loaded: where the page ended up (after redirects), its origin, its config.js.
pub struct Page {
    pub origin: String,
    pub config_js_url: Url,
    pub config_js: String,
    /// Cache-Control of the page and of config.js, as served.
    pub page_cache: Option<String>,
    pub config_cache: Option<String>,
}

/// The website URL a teacher was given, as a URL (an S3 website endpoint is often written
/// without its `http://`).
pub fn website(url: &str) -> anyhow::Result<Url> {
    let with_scheme = match url.contains("://") {
        true => url.to_owned(),
        false => format!("http://{url}"),
    };
    let parsed = Url::parse(&with_scheme).with_context(|| format!("{url} is not a URL"))?;
    anyhow::ensure!(
        matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
        "{url} is not an http(s) URL"
    );
    Ok(parsed)
}

/// GET the page and the config.js it loads.
pub async fn load(http: &reqwest::Client, url: &Url) -> anyhow::Result<(Page, String)> {
    let page = http.get(url.clone()).send().await.context("GET the page")?;
    let page_url = page.url().clone();
    let page = expect_200(&format!("GET {page_url}"), page).await?;
    let page_cache = cache_control(&page);
    let html = page.text().await.context("read the page")?;
    let config_js_url = config_js_src(&html, &page_url)?;
    let config = http
        .get(config_js_url.clone())
        .send()
        .await
        .with_context(|| format!("GET {config_js_url}"))?;
    // The page is there and config.js is not: the step that writes it did not run.
    let config = match expect_200(&format!("GET {config_js_url}"), config).await {
        Ok(config) => config,
        Err(missing) => return hint::fail(format!("{missing:#}"), Hint::NoApiUrl),
    };
    let config_cache = cache_control(&config);
    let config_js = config.text().await.context("read config.js")?;
    let detail = format!("200, config.js at {config_js_url}");
    let page = Page {
        origin: page_url.origin().ascii_serialization(),
        config_js_url,
        config_js,
        page_cache,
        config_cache,
    };
    Ok((page, detail))
}

fn cache_control(response: &reqwest::Response) -> Option<String> {
    let value = response.headers().get(reqwest::header::CACHE_CONTROL)?;
    value.to_str().ok().map(str::to_owned)
}

/// The page and config.js are never reused from a browser's cache without asking.
pub fn no_cache(page: &Page) -> anyhow::Result<((), String)> {
    let fresh = |value: &Option<String>| {
        value.as_deref().is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("no-cache") || v.contains("no-store") || v.contains("max-age=0")
        })
    };
    let stale: Vec<String> = [
        ("the page", &page.page_cache),
        ("config.js", &page.config_cache),
    ]
    .into_iter()
    .filter(|(_, value)| !fresh(value))
    .map(|(what, value)| match value {
        Some(v) => format!("{what} has Cache-Control: {v}"),
        None => format!("{what} has no Cache-Control"),
    })
    .collect();
    if !stale.is_empty() {
        return hint::fail(stale.join(", "), Hint::NoCache);
    }
    Ok((
        (),
        "Cache-Control: no-cache on the page and config.js".to_owned(),
    ))
}

/// Where the page loads config.js from: its `<script src>` ending in config.js, else
/// config.js beside the page.
fn config_js_src(html: &str, page: &Url) -> anyhow::Result<Url> {
    let named = script_sources(html).into_iter().find(|src| {
        src.split(['?', '#'])
            .next()
            .unwrap_or_default()
            .ends_with("config.js")
    });
    let src = named.unwrap_or_else(|| "config.js".to_owned());
    page.join(&src)
        .with_context(|| format!("the page's script src {src:?} is not a URL"))
}

/// The `src` of every `<script>` tag, as written.
fn script_sources(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    for (at, _) in lower.match_indices("<script") {
        let tag_end = lower[at..].find('>').map_or(lower.len(), |e| at + e);
        let tag = &html[at..tag_end];
        let Some(src_at) = tag.to_ascii_lowercase().find("src=") else {
            continue;
        };
        let value = &tag[src_at + 4..];
        let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'');
        let value = match quote {
            Some(q) => value[1..].split(q).next().unwrap_or_default(),
            None => value.split([' ', '>']).next().unwrap_or_default(),
        };
        found.push(value.to_owned());
    }
    found
}

/// The Function URL config.js names: an https URL (http on loopback only), not the site.
pub fn function_url(page: &Page) -> anyhow::Result<(String, String)> {
    let Some(raw) = api_base_url(&page.config_js) else {
        let problem = format!("{} sets no apiBaseUrl", page.config_js_url);
        return hint::fail(problem, Hint::NoApiUrl);
    };
    let Ok(url) = Url::parse(raw.trim()) else {
        return hint::fail(format!("apiBaseUrl {raw:?} is not a URL"), Hint::NoApiUrl);
    };
    if url.origin().ascii_serialization() == page.origin {
        let problem = format!("apiBaseUrl {raw} is the website itself");
        return hint::fail(problem, Hint::StaleConfig);
    }
    match url.scheme() {
        "https" => {}
        "http" if loopback(&url) => {}
        _ => return hint::fail(format!("apiBaseUrl {raw} is not https"), Hint::NotHttps),
    }
    Ok((url.to_string(), format!("{url}")))
}

/// Whether `url` names this machine.
fn loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let ip = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>();
    host == "localhost" || ip.is_ok_and(|ip| ip.is_loopback())
}

/// The string config.js gives `apiBaseUrl` (`apiBaseUrl: "..."`, `"apiBaseUrl": '...'`),
/// else the first string in it that starts with http:// or https://.
fn api_base_url(config_js: &str) -> Option<String> {
    let named = config_js.find("apiBaseUrl").and_then(|at| {
        let rest = config_js[at + "apiBaseUrl".len()..]
            .trim_start_matches(['"', '\''])
            .trim_start();
        let rest = rest.strip_prefix([':', '='])?.trim_start();
        first_string(rest).filter(|_| rest.starts_with(['"', '\'', '`']))
    });
    named.or_else(|| {
        let mut rest = config_js;
        while let Some(at) = rest.find(['"', '\'', '`']) {
            let value = first_string(&rest[at..])?;
            if value.starts_with("http://") || value.starts_with("https://") {
                return Some(value);
            }
            rest = &rest[at + value.len() + 2..];
        }
        None
    })
}

/// The quoted string `text` starts with.
fn first_string(text: &str) -> Option<String> {
    let quote = text.chars().next()?;
    let body = &text[quote.len_utf8()..];
    body.find(quote).map(|end| body[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_url_is_read_from_any_config_js_style() {
        let cases = [
            (
                r#"window.CAT_UPLOAD_CONFIG = { apiBaseUrl: "https://a.lambda-url.us-east-1.on.aws/" };"#,
                Some("https://a.lambda-url.us-east-1.on.aws/"),
            ),
            (
                r#"window.CONFIG = {"apiBaseUrl": 'https://b.on.aws'}"#,
                Some("https://b.on.aws"),
            ),
            (
                "const apiBaseUrl = `http://localhost:9000/`;",
                Some("http://localhost:9000/"),
            ),
            (
                r#"window.CATUP = {"apiUrl": "https://c.on.aws/"};"#,
                Some("https://c.on.aws/"),
            ),
            (
                r#"window.CAT_UPLOAD_CONFIG = { apiBaseUrl: "" };"#,
                Some(""),
            ),
            ("// nothing here", None),
        ];
        for (config_js, expected) in cases {
            assert_eq!(api_base_url(config_js).as_deref(), expected, "{config_js}");
        }
    }

    #[test]
    fn config_js_is_found_where_the_page_loads_it() {
        let page = Url::parse("http://site.example/app/index.html").unwrap();
        let cases = [
            (
                r#"<script src="config.js"></script>"#,
                "http://site.example/app/config.js",
            ),
            (
                "<SCRIPT SRC='/js/config.js?v=3'></SCRIPT>",
                "http://site.example/js/config.js?v=3",
            ),
            (
                r#"<script src="app.js" defer></script>"#,
                "http://site.example/app/config.js",
            ),
            ("<p>no scripts</p>", "http://site.example/app/config.js"),
        ];
        for (html, expected) in cases {
            assert_eq!(
                config_js_src(html, &page).unwrap().as_str(),
                expected,
                "{html}"
            );
        }
    }

    #[test]
    fn only_an_https_url_other_than_the_site_is_a_function_url() {
        let page = |api: &str| Page {
            origin: "http://site.example".to_owned(),
            config_js_url: Url::parse("http://site.example/config.js").unwrap(),
            config_js: format!("window.CAT_UPLOAD_CONFIG = {{ apiBaseUrl: \"{api}\" }};"),
            page_cache: None,
            config_cache: None,
        };
        let hint_of = |api: &str| {
            function_url(&page(api))
                .err()
                .map(|e| hint::of(&e).expect("a hinted failure").hint.clone())
        };
        assert_eq!(hint_of("https://x.lambda-url.us-east-1.on.aws/"), None);
        assert_eq!(hint_of("http://127.0.0.1:9000/"), None);
        assert_eq!(hint_of("http://localhost:9000/"), None);
        assert_eq!(
            hint_of("http://x.lambda-url.us-east-1.on.aws/"),
            Some(Hint::NotHttps)
        );
        assert_eq!(hint_of("http://site.example/"), Some(Hint::StaleConfig));
        assert_eq!(hint_of(""), Some(Hint::NoApiUrl));
    }
}
