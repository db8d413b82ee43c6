//! `GET /api/agents`: the pool's live client rows by `userAgent` and the
//! addresses still connected as `jd-client/sv2`, read into [`PoolAgents`]
//! with the same field helpers as the other answers.

use dmr_shared::agents::{AgentCount, JdcAddress, PoolAgents};

use super::{boolean, nullable_string, number, string, Json, Shape};

/// The member `name` of `v` as a count, in the shared type's width.
fn count<J: Json>(v: &J, at: &str, name: &str) -> Result<u64, Shape> {
    super::count(v, at, name).map(|n| n as u64)
}

/// The array member `name` of the answer.
fn list<J: Json>(v: &J, name: &str) -> Result<Vec<J>, Shape> {
    let member = v
        .member(name)
        .ok_or_else(|| format!("`{name}` is not an array"))?;
    super::array(&member, name)
}

/// `GET /api/agents`'s answer, member by member.
pub fn agents<J: Json>(v: &J) -> Result<PoolAgents, Shape> {
    // Plain loops, as for the other answers: less of the page's wasm.
    let mut agents = Vec::new();
    for (i, a) in list(v, "agents")?.iter().enumerate() {
        let at = format!("agents[{i}].");
        agents.push(AgentCount {
            user_agent: string(a, &at, "userAgent")?,
            rows: count(a, &at, "rows")?,
            addresses: count(a, &at, "addresses")?,
            hash_rate: number(a, &at, "hashRate")?,
            from_reports: boolean(a, &at, "fromReports")?,
        });
    }
    let mut jdc_addresses = Vec::new();
    for (i, j) in list(v, "jdcAddresses")?.iter().enumerate() {
        let at = format!("jdcAddresses[{i}].");
        jdc_addresses.push(JdcAddress {
            address: string(j, &at, "address")?,
            rows: count(j, &at, "rows")?,
            since: string(j, &at, "since")?,
            reported: boolean(j, &at, "reported")?,
            renames_to: nullable_string(j, &at, "renamesTo")?,
        });
    }
    Ok(PoolAgents {
        read_at: string(v, "", "readAt")?,
        max_age: count(v, "", "maxAge")?,
        rows: count(v, "", "rows")?,
        hash_rate: number(v, "", "hashRate")?,
        agents,
        more_agents: count(v, "", "moreAgents")?,
        jdc_rows: count(v, "", "jdcRows")?,
        jdc_addresses,
        more_jdc_addresses: count(v, "", "moreJdcAddresses")?,
        live_reports: count(v, "", "liveReports")?,
        reports_complete: boolean(v, "", "reportsComplete")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::agents_answer as answer;
    use serde_json::{json, Value};

    #[test]
    fn the_answer_reads_exactly_what_the_worker_writes() {
        let written = serde_json::to_value(answer()).unwrap();
        assert_eq!(agents(&written), Ok(answer()));
        assert_eq!(
            crate::agents::parse_agents(200, Some(written)),
            Ok(answer())
        );
    }

    #[test]
    fn a_wrong_shape_names_the_member() {
        type Spoil = fn(&mut Value);
        let cases: [(Spoil, &str); 6] = [
            (|v| *v = json!([]), "`agents` is not an array"),
            (|v| v["rows"] = json!(-1), "`rows` is not a count"),
            (
                |v| v["agents"][1]["fromReports"] = json!("yes"),
                "`agents[1].fromReports` is not true or false",
            ),
            (
                |v| v["jdcAddresses"][0]["renamesTo"] = json!(7),
                "`jdcAddresses[0].renamesTo` is neither a string nor null",
            ),
            (
                |v| {
                    v["jdcAddresses"][1]
                        .as_object_mut()
                        .unwrap()
                        .remove("since");
                },
                "`jdcAddresses[1].since` is not a string",
            ),
            (
                |v| v["jdcAddresses"] = json!({}),
                "`jdcAddresses` is not an array",
            ),
        ];
        for (spoil, want) in cases {
            let mut v = serde_json::to_value(answer()).unwrap();
            spoil(&mut v);
            assert_eq!(agents(&v), Err(want.to_string()));
        }
    }
}
