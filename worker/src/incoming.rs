//! [`Incoming`]: a request as the runtime hands it over, read only as far
//! as a handler asks.
//!
//! workers-rs's `Request` is built from the runtime's request by reading its
//! method, URL, headers and `request.cf` at once. `request.cf` is an object
//! the runtime builds on first access, and nothing here uses it, yet that
//! one access shows in V8's CPU profile of a report (`npm run bench --
//! --profile dmr-bench-rust`; docs/performance.md). So the Worker takes the
//! runtime's request as it is and reads a header, the URL or the body only
//! when it needs them.

use worker::web_sys::{Headers, Request};
use worker::ByteStream;

/// The request being answered.
pub struct Incoming {
    inner: Request,
    headers: Headers,
    path: String,
}

impl Incoming {
    /// Wraps the runtime's request; reads its URL (for the path) and its
    /// headers object, nothing else.
    pub fn new(inner: Request) -> Self {
        let headers = inner.headers();
        let path = path_of(&inner.url());
        Incoming {
            inner,
            headers,
            path,
        }
    }

    /// The runtime's request itself.
    pub fn inner(&self) -> &Request {
        &self.inner
    }

    /// The value of header `name`, if the request has one.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    /// The URL's path, as sent (not percent-decoded).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The whole URL, as the runtime serialised it.
    pub fn url(&self) -> String {
        self.inner.url()
    }

    /// The method as sent (`QUERY`, `PROPFIND` and the like included).
    pub fn method(&self) -> String {
        self.inner.method()
    }

    /// The body as a stream of chunks, or `None` when there is none.
    pub fn body(&self) -> Option<ByteStream> {
        self.inner.body().map(ByteStream::from)
    }
}

/// The path of an absolute URL as the runtime serialises it (WHATWG): from
/// the first `/` after the host to the query or fragment, which cannot
/// appear unencoded in a serialised path.
fn path_of(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path[..path.find(['?', '#']).unwrap_or(path.len())].to_owned()
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_path_is_cut_from_the_serialised_url() {
        assert_eq!(path_of("https://pool.example/api/jdcs"), "/api/jdcs");
        assert_eq!(
            path_of("http://127.0.0.1:8787/api/jdcs?limit=5"),
            "/api/jdcs"
        );
        assert_eq!(path_of("https://pool.example/a%20b#x"), "/a%20b");
        assert_eq!(path_of("https://pool.example"), "/");
        assert_eq!(
            path_of("https://pool.example/api/downstream-report/bc1q.rig%3F1?x=/y"),
            "/api/downstream-report/bc1q.rig%3F1"
        );
    }
}
