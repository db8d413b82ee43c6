//! Prometheus metrics, served as text on `--metrics ADDR` (`GET /metrics`,
//! see [`endpoint`]).
//!
//! Every decision is counted, so an operator can see what the mining port
//! receives and how often the protocol spec's one-byte rule would have sent
//! a miner to the wrong listener. The counters on the relay path are
//! resolved once, at start: counting a relayed chunk is one atomic add.

pub mod endpoint;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::classify::Class;
use crate::detect::Reason;

/// Every (class, reason) a classification can end in.
const DECISIONS: [(Class, Reason); 5] = [
    (Class::Http, Reason::Method),
    (Class::Sv1, Reason::Json),
    (Class::Sv2, Reason::Binary),
    (Class::Sv2, Reason::Quiet),
    (Class::Sv2, Reason::Closed),
];

/// Content type of the metrics text (OpenMetrics, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, String)>;

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

/// The counters of one class of connection.
#[derive(Debug, Clone, Default)]
pub struct ClassMetrics {
    /// Connections classified so.
    pub connections: Counter,
    /// Connections of this class open now.
    pub open: Gauge,
    /// Bytes relayed from the miner to the pool.
    pub bytes_up: Counter,
    /// Bytes relayed from the pool to the miner.
    pub bytes_down: Counter,
    /// Connections the spec's first-byte rule would have given to another
    /// listener.
    pub one_byte_rule_disagrees: Counter,
    /// Relays that failed because the pool's listener could not be reached
    /// (or, for SV1, because there is none).
    pub backend_failures: Counter,
}

/// All the gateway's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Connections still being classified.
    pub detecting: Gauge,
    decisions: Vec<(Class, Reason, Counter)>,
    forwarded: Family<Labels, Counter>,
    local_answers: Family<Labels, Counter>,
    /// Reports being forwarded to the Worker now (places of
    /// `--max-forwards` taken).
    pub forwarding: Gauge,
    /// Bytes of request bodies held now (received, or being forwarded).
    pub body_bytes: Gauge,
    /// Addresses with HTTP requests open now.
    pub http_addresses: Gauge,
    /// HTTP requests refused (429) because their address already held its
    /// share (`--max-requests-per-address`).
    pub share_refusals: Counter,
    http: ClassMetrics,
    sv1: ClassMetrics,
    sv2: ClassMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("mining_gateway");
        let connections = Family::<Labels, Counter>::default();
        let open = Family::<Labels, Gauge>::default();
        let bytes = Family::<Labels, Counter>::default();
        let disagreements = Family::<Labels, Counter>::default();
        let backend_failures = Family::<Labels, Counter>::default();
        let decisions = Family::<Labels, Counter>::default();
        let forwarded = Family::<Labels, Counter>::default();
        let local_answers = Family::<Labels, Counter>::default();
        let forwarding = Gauge::default();
        let http_addresses = Gauge::default();
        let body_bytes = Gauge::default();
        let share_refusals = Counter::default();

        registry.register(
            "connections",
            "Connections accepted on the mining port, by the class they were given",
            connections.clone(),
        );
        registry.register(
            "open_connections",
            "Connections open now, by class (detecting: not classified yet)",
            open.clone(),
        );
        registry.register(
            "decisions",
            "Classifications, by class and by what decided (method, json, binary: the bytes; quiet: the deadline passed; closed: the client closed first)",
            decisions.clone(),
        );
        registry.register(
            "one_byte_rule_disagreements",
            "Connections the protocol spec's first-byte rule (G/P: HTTP, {: SV1) would have sent to another listener, by the class they were given",
            disagreements.clone(),
        );
        registry.register(
            "relayed_bytes",
            "Bytes relayed between miners and the pool's listeners, by class and direction",
            bytes.clone(),
        );
        registry.register(
            "backend_failures",
            "Relays that could not start: the pool's listener did not accept, or there is no SV1 listener",
            backend_failures.clone(),
        );
        registry.register(
            "forwarded_requests",
            "Requests forwarded to the Worker, by method and the status returned to the JDC (502: Worker unreachable, 504: too slow)",
            forwarded.clone(),
        );
        registry.register(
            "local_answers",
            "HTTP requests answered by the gateway itself, by status (400 not HTTP, 404 path, 405 method, 408 too slow, 413 too large, 414 and 431 head too large, 429 address over its share, 503 every forwarding place or the body memory taken)",
            local_answers.clone(),
        );
        registry.register(
            "forwarding",
            "Reports being forwarded to the Worker now: places of --max-forwards taken (a report takes one once its body has arrived)",
            forwarding.clone(),
        );
        registry.register(
            "body_bytes",
            "Bytes of request bodies held now, being received or forwarded (at most --body-memory MiB)",
            body_bytes.clone(),
        );
        registry.register(
            "http_addresses",
            "Client addresses (IPv6: /64s) with HTTP requests open now",
            http_addresses.clone(),
        );
        registry.register(
            "share_refusals",
            "HTTP requests refused with 429 because their address already had --max-requests-per-address open",
            share_refusals.clone(),
        );
        let detecting = open.get_or_create_owned(&labels(&[("class", "detecting")]));

        let class = |c: Class| {
            let name = c.name();
            let mut metrics = ClassMetrics {
                connections: connections.get_or_create_owned(&labels(&[("class", name)])),
                open: open.get_or_create_owned(&labels(&[("class", name)])),
                one_byte_rule_disagrees: disagreements
                    .get_or_create_owned(&labels(&[("class", name)])),
                ..ClassMetrics::default()
            };
            // HTTP is served here, not relayed: no bytes or backend series.
            if c != Class::Http {
                metrics.bytes_up =
                    bytes.get_or_create_owned(&labels(&[("class", name), ("direction", "up")]));
                metrics.bytes_down =
                    bytes.get_or_create_owned(&labels(&[("class", name), ("direction", "down")]));
                metrics.backend_failures =
                    backend_failures.get_or_create_owned(&labels(&[("class", name)]));
            }
            metrics
        };
        let (http, sv1, sv2) = (class(Class::Http), class(Class::Sv1), class(Class::Sv2));
        let decisions = DECISIONS
            .iter()
            .map(|&(class, reason)| {
                let labels = labels(&[("class", class.name()), ("reason", reason.name())]);
                (class, reason, decisions.get_or_create_owned(&labels))
            })
            .collect();
        Metrics {
            registry,
            detecting,
            decisions,
            forwarded,
            local_answers,
            forwarding,
            http_addresses,
            body_bytes,
            share_refusals,
            http,
            sv1,
            sv2,
        }
    }

    /// The counters of `class`.
    pub fn class(&self, class: Class) -> &ClassMetrics {
        match class {
            Class::Http => &self.http,
            Class::Sv1 => &self.sv1,
            Class::Sv2 => &self.sv2,
        }
    }

    /// Connections open now, classified or not.
    pub fn open_connections(&self) -> i64 {
        self.detecting.get() + self.http.open.get() + self.sv1.open.get() + self.sv2.open.get()
    }

    /// Counts one classification.
    pub fn decided(&self, class: Class, reason: Reason) {
        if let Some((_, _, counter)) = self
            .decisions
            .iter()
            .find(|(c, r, _)| *c == class && *r == reason)
        {
            counter.inc();
        }
    }

    /// Counts a request forwarded to the Worker and the status the JDC got.
    pub fn forwarded(&self, method: &str, status: u16) {
        self.forwarded
            .get_or_create(&labels(&[
                ("method", method),
                ("status", &status.to_string()),
            ]))
            .inc();
    }

    /// Counts a request the gateway answered itself.
    pub fn answered_locally(&self, status: u16) {
        self.local_answers
            .get_or_create(&labels(&[("status", &status.to_string())]))
            .inc();
    }

    /// The metrics as Prometheus reads them.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_text_with_their_labels() {
        let m = Metrics::new();
        m.class(Class::Sv2).connections.inc();
        m.class(Class::Sv2).bytes_up.inc_by(64);
        m.class(Class::Sv2).one_byte_rule_disagrees.inc();
        m.decided(Class::Sv2, Reason::Binary);
        m.forwarded("POST", 200);
        m.answered_locally(404);
        m.detecting.inc();
        m.share_refusals.inc();
        m.http_addresses.set(2);
        let text = m.render();
        for line in [
            "mining_gateway_connections_total{class=\"sv2\"} 1",
            "mining_gateway_connections_total{class=\"http\"} 0",
            "mining_gateway_relayed_bytes_total{class=\"sv1\",direction=\"down\"} 0",
            "mining_gateway_relayed_bytes_total{class=\"sv2\",direction=\"up\"} 64",
            "mining_gateway_one_byte_rule_disagreements_total{class=\"sv2\"} 1",
            "mining_gateway_decisions_total{class=\"sv2\",reason=\"binary\"} 1",
            "mining_gateway_forwarded_requests_total{method=\"POST\",status=\"200\"} 1",
            "mining_gateway_local_answers_total{status=\"404\"} 1",
            "mining_gateway_open_connections{class=\"detecting\"} 1",
            "mining_gateway_share_refusals_total 1",
            "mining_gateway_http_addresses 2",
            "mining_gateway_forwarding 0",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(
            !text.contains("relayed_bytes_total{class=\"http\""),
            "{text}"
        );
        assert_eq!(m.open_connections(), 1);
    }
}
