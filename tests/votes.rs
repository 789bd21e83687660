//! Owners' votes (issue 6): the domain notes' example decided by area and headcount, the
//! boundaries (exactly 2/3 and 3/4 pass, exactly half fails), the headcount rules, ballots
//! changed until the close, paper ballots, rule sets in force, results that cannot change, and
//! the job that closes votes nobody looks at.
mod common;

use std::collections::HashMap;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wuye::auth::Role;

fn id_of(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("no id in {value}"))
}

/// The domain notes' compound: 100 owners, 10,000 m². Fifty own 100 m² (a1..a50), one 250 m²
/// (b), one 400 m² (c), sixteen 1,350 m² between them (o1..o16: fifteen of 84, one of 90), and
/// thirty-two 3,000 m² between them (n1..n32: thirty of 94, two of 90).
fn domain_compound() -> Vec<Flat<'static>> {
    let mut flats = Vec::new();
    let mut n = 0;
    let mut add = |count: usize, area: &str| {
        for _ in 0..count {
            n += 1;
            flats.push(owned_flat(n, 1 + (n % 6) as i32, area));
        }
    };
    add(50, "100");
    add(1, "250");
    add(1, "400");
    add(15, "84");
    add(1, "90");
    add(30, "94");
    add(2, "90");
    flats
}

/// Owner names of the groups above: a (1..=50), b (51), c (52), o (53..=68), n (69..=100).
fn names(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("业主{n}")).collect()
}

#[tokio::test]
async fn the_domain_example_is_decided_by_area_and_headcount() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Vote Example").await;
    let manager = tenant.token(Role::Manager);
    let compound = compound_of(&app, &tenant, "旺角家园", &domain_compound()).await;

    // 7,000 m² and 68 owners take part in both; a 3/4 matter needs 5,250 m² and 51 owners.
    let cases = [
        // 49 of a and c agree: 5,300 m² but 50 owners.
        ("5,300 m² with 50 owners fails", [names(1..=49), names(52..=52)].concat(), [names(50..=51), names(53..=68)].concat(), false),
        // All of a and b agree: 5,250 m² and 51 owners.
        ("5,250 m² with 51 owners passes", [names(1..=51)].concat(), [names(52..=68)].concat(), true),
    ];
    for (case, agree, disagree, passes) in cases {
        let vote = open_vote(&app, manager, compound, json!({ "title": case, "matter": "alteration_or_rebuilding" })).await;
        let vote_id = id_of(&vote);
        assert_eq!((vote["total_area"].as_str(), vote["total_headcount"].as_i64()), (Some("10000.00"), Some(100)), "{case}: {vote}");
        assert_eq!(vote["special_majority"], true);
        assert_eq!(vote["rule_set"], "civil_code_2021", "the default rules today");
        let electors = electors(&app, manager, vote_id).await;
        assert_eq!(electors.len(), 100);
        for (names, choice) in [(&agree, "agree"), (&disagree, "disagree")] {
            for name in names {
                paper_ballot(&app, manager, vote_id, electors[name]["id"].as_i64().unwrap(), choice).await;
            }
        }
        let (status, running) = app.get(&format!("/votes/{vote_id}/tally"), manager).await;
        assert_eq!(status, StatusCode::OK, "{running}");
        assert_eq!(running["final"], false);
        assert_eq!((running["participating"]["area"].as_str(), running["participating"]["headcount"].as_i64()), (Some("7000.00"), Some(68)), "{case}: {running}");
        let check = |name: &str| running["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned().unwrap();
        assert_eq!((check("quorum_area")["needed"].as_str(), check("quorum_area")["met"].as_bool()), (Some("6666.67"), Some(true)), "{running}");
        assert_eq!((check("quorum_headcount")["needed"].as_str(), check("quorum_headcount")["met"].as_bool()), (Some("67"), Some(true)));
        assert_eq!(check("approval_area")["needed"], "5250.00");
        assert_eq!(check("approval_headcount")["needed"], "51");

        let closed = close_vote(&app, manager, vote_id).await;
        assert_eq!(closed["passed"], passes, "{case}: {closed}");
        let result = &closed["result"];
        assert_eq!(result["final"], true);
        if passes {
            assert_eq!(result["reasons"], json!([]), "{case}");
            assert_eq!((result["agree"]["area"].as_str(), result["agree"]["headcount"].as_i64()), (Some("5250.00"), Some(51)));
        } else {
            assert_eq!(result["reasons"], json!(["at least 3/4 of participating owners agree: 50 owners where 51 owners are needed"]), "{case}");
            assert_eq!((result["agree"]["area"].as_str(), result["agree"]["headcount"].as_i64()), (Some("5300.00"), Some(50)));
        }
        // Published as a notice, and final: a late ballot is refused and the result stays.
        let (status, notice) = app.get(&format!("/notices/{}", closed["result_notice_id"]), manager).await;
        assert_eq!(status, StatusCode::OK, "{notice}");
        assert_eq!((notice["category"].as_str(), notice["status"].as_str()), (Some("vote_result"), Some("published")), "{notice}");
        assert_eq!(notice["source"], format!("vote:{vote_id}"));
        assert!(notice["body"].as_str().unwrap().contains(if passes { "通过 passed" } else { "未通过 failed" }), "{notice}");
        let late = electors[&names(69..=69)[0]]["id"].as_i64().unwrap();
        let (status, body) = app.upload(&format!("/votes/{vote_id}/paper-ballots?elector_id={late}&choice=agree"), manager, SCAN.to_vec()).await;
        assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
        let (_, again) = app.get(&format!("/votes/{vote_id}/tally"), manager).await;
        assert_eq!(again, closed["result"], "the tally after the close is the result as decided");
    }
}

/// Equal 100 m² flats, one owner each: `count` of them in a compound of their own.
fn equal_flats(count: usize) -> Vec<Flat<'static>> {
    (1..=count).map(|n| owned_flat(n, 3, "100")).collect()
}

#[tokio::test]
async fn boundaries_exactly_two_thirds_and_three_quarters_pass_exactly_half_fails() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Vote Bounds").await;
    let manager = tenant.token(Role::Manager);
    // (what, flats, matter, agree, disagree, passes, failed checks)
    let cases: [(&str, usize, &str, usize, usize, bool, &[&str]); 5] = [
        ("exactly half agrees to a majority matter", 4, "using_the_fund", 2, 2, false, &["approval_area", "approval_headcount"]),
        ("one more than half", 5, "using_the_fund", 3, 2, true, &[]),
        ("exactly 3/4 agrees to a special matter", 4, "raising_the_fund", 3, 1, true, &[]),
        ("5 of 7 is under 3/4", 7, "changing_common_parts", 5, 2, false, &["approval_area", "approval_headcount"]),
        ("exactly 2/3 take part", 6, "hiring_or_firing_the_company", 4, 0, true, &[]),
    ];
    for (what, flats, matter, agree, disagree, passes, failed) in cases {
        let compound = compound_of(&app, &tenant, what, &equal_flats(flats)).await;
        let vote = open_vote(&app, manager, compound, json!({ "title": what, "matter": matter })).await;
        let vote_id = id_of(&vote);
        let electors = electors(&app, manager, vote_id).await;
        for n in 1..=agree + disagree {
            let choice = if n <= agree { "agree" } else { "disagree" };
            paper_ballot(&app, manager, vote_id, electors[&format!("业主{n}")]["id"].as_i64().unwrap(), choice).await;
        }
        let closed = close_vote(&app, manager, vote_id).await;
        assert_eq!(closed["passed"], passes, "{what}: {closed}");
        let failing: Vec<&str> = closed["result"]["checks"].as_array().unwrap().iter().filter(|c| c["met"] == false).map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(failing, failed, "{what}");
    }
    // Just under 2/3 of the owners: no quorum, whatever they say.
    let compound = compound_of(&app, &tenant, "no quorum", &equal_flats(7)).await;
    let vote = open_vote(&app, manager, compound, json!({ "title": "no quorum", "matter": "rules" })).await;
    let electors = electors(&app, manager, id_of(&vote)).await;
    for n in 1..=4 {
        paper_ballot(&app, manager, id_of(&vote), electors[&format!("业主{n}")]["id"].as_i64().unwrap(), "agree").await;
    }
    let closed = close_vote(&app, manager, id_of(&vote)).await;
    assert_eq!(closed["passed"], false);
    assert_eq!(
        closed["result"]["reasons"],
        json!(["at least 2/3 of the area takes part: 400.00 m² where 466.67 m² are needed", "at least 2/3 of the owners take part: 4 owners where 5 owners are needed"])
    );
}

#[tokio::test]
async fn one_owner_counts_once_co_owners_through_their_voter_the_developer_as_one() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Headcount").await;
    let manager = tenant.token(Role::Manager);
    let flat = |number: &str, area: &str, owner: Option<(&str, &str)>, voter: bool| Flat {
        building: "1栋",
        stairwell: "1单元",
        number: number.into(),
        floor: 2,
        area: area.into(),
        owner: owner.map(|(n, p)| (n.to_string(), p.to_string())),
        designated_voter: voter,
        email: None,
    };
    let flats = [
        // 陈 owns two flats: one voter with 180 m².
        flat("201", "80", Some(("陈一", "13900000001")), true),
        flat("202", "100", Some(("陈一", "13900000001")), true),
        // 周 and 吴 own 203 together; 吴 votes for it.
        flat("203", "90", Some(("周二", "13900000002")), false),
        flat("203", "90", Some(("吴三", "13900000003")), true),
    ];
    let compound = compound_of(&app, &tenant, "Headcount 小区", &flats).await;
    let boss = tenant.token(Role::CompanyAdmin);
    let stairwell = {
        let (_, buildings) = app.get(&format!("/compounds/{compound}/buildings"), boss).await;
        let (_, stairwells) = app.get(&format!("/buildings/{}/stairwells", buildings[0]["id"]), boss).await;
        stairwells[0]["id"].as_i64().unwrap()
    };
    // Two unsold flats: the developer, once, with 150 m². And 206, no owner on record: it counts,
    // but no one can vote for it.
    for (number, area, held) in [("204", "70", true), ("205", "80", true), ("206", "60", false)] {
        let (status, unit) = app
            .post(&format!("/stairwells/{stairwell}/units"), boss, json!({ "floor": 2, "number": number, "unit_use": "residential", "registered_area": area, "developer_held": held }))
            .await;
        assert_eq!(status, StatusCode::OK, "{unit}");
    }

    let vote = open_vote(&app, manager, compound, json!({ "title": "管理规约", "matter": "covenant", "scope": "stairwells", "scope_ids": [stairwell] })).await;
    let vote_id = id_of(&vote);
    // 80+100+90+70+80+60 = 480 m²; 陈, 吴, the developer and the unknown owner of 206.
    assert_eq!((vote["total_area"].as_str(), vote["total_headcount"].as_i64()), (Some("480.00"), Some(4)), "{vote}");
    let (_, electorate) = app.get(&format!("/votes/{vote_id}/electorate"), manager).await;
    let summary: HashMap<String, (String, usize, bool)> = electorate["electors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), (e["area"].as_str().unwrap().to_string(), e["unit_ids"].as_array().unwrap().len(), e["developer"].as_bool().unwrap())))
        .collect();
    assert_eq!(
        summary,
        HashMap::from([
            ("陈一".to_string(), ("180.00".to_string(), 2, false)),
            ("吴三".to_string(), ("90.00".to_string(), 1, false)),
            ("开发商 developer".to_string(), ("150.00".to_string(), 2, true)),
        ])
    );
    assert_eq!(electorate["units_without_voter"].as_array().unwrap().len(), 1, "{electorate}");

    // 陈 votes once with both flats; 周, a co-owner who is not the voter, is refused.
    let chen = owner_login(&app, &tenant, compound, "陈一").await;
    let (status, ballot) = app.post(&format!("/votes/{vote_id}/ballots"), &chen, json!({ "choice": "agree" })).await;
    assert_eq!(status, StatusCode::OK, "{ballot}");
    let zhou = owner_login(&app, &tenant, compound, "周二").await;
    let (status, body) = app.post(&format!("/votes/{vote_id}/ballots"), &zhou, json!({ "choice": "disagree" })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (_, tally) = app.get(&format!("/votes/{vote_id}/tally"), manager).await;
    assert_eq!((tally["agree"]["area"].as_str(), tally["agree"]["headcount"].as_i64()), (Some("180.00"), Some(1)), "{tally}");
    assert_eq!(tally["disagree"]["headcount"], 0);
    // The electorate was fixed at opening: a sale afterwards changes nothing in it.
    let units = units_by_number(&app, manager, compound).await;
    sell(&app, &tenant, compound, units["202"], "郑四", "13900000004").await;
    let (_, after) = app.get(&format!("/votes/{vote_id}/electorate"), manager).await;
    assert_eq!(after, electorate);
}

#[tokio::test]
async fn an_owner_changes_their_ballot_until_the_close_and_staff_only_record_paper() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Ballots").await;
    let (manager, owner, committee) = (tenant.token(Role::Manager), tenant.token(Role::Owner), tenant.token(Role::Committee));
    // The committee opens it; the fixture compound: 王建国's 88.60 m² and the developer's 72.35 m².
    let vote = open_vote(&app, committee, tenant.compound_id, json!({ "title": "选聘物业", "matter": "hiring_or_firing_the_company" })).await;
    let vote_id = id_of(&vote);
    let ballots = format!("/votes/{vote_id}/ballots");
    for choice in ["agree", "disagree", "abstain", "disagree"] {
        let (status, ballot) = app.post(&ballots, owner, json!({ "choice": choice })).await;
        assert_eq!((status, ballot["channel"].as_str(), ballot["counted"].as_bool()), (StatusCode::OK, Some("online"), Some(true)), "{ballot}");
    }
    let (status, mine) = app.get(&format!("/votes/{vote_id}"), owner).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let history: Vec<(&str, bool)> = mine["my_elector"]["ballots"].as_array().unwrap().iter().map(|b| (b["choice"].as_str().unwrap(), b["counted"].as_bool().unwrap())).collect();
    assert_eq!(history, [("agree", false), ("disagree", false), ("abstain", false), ("disagree", true)]);
    assert_eq!(mine["my_elector"]["area"], "88.60");
    let (_, my_votes) = app.get("/me/votes", owner).await;
    assert_eq!(my_votes.as_array().unwrap().iter().map(|v| v["id"].clone()).collect::<Vec<_>>(), [json!(vote_id)]);

    // Staff cannot vote for an owner; they record a signed paper ballot, marked as such.
    let (status, body) = app.post(&ballots, manager, json!({ "choice": "agree" })).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let electors = electors(&app, manager, vote_id).await;
    let developer = electors["开发商 developer"]["id"].as_i64().unwrap();
    let (status, body) = app.upload(&format!("/votes/{vote_id}/paper-ballots?elector_id={developer}&choice=agree"), manager, b"not an image".to_vec()).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(body["field"], "scan");
    let paper = paper_ballot(&app, manager, vote_id, developer, "agree").await;
    assert_eq!((paper["channel"].as_str(), paper["has_scan"].as_bool()), (Some("paper"), Some(true)), "{paper}");
    let scan = app.client.get(format!("{}/ballots/{}/scan", app.base, id_of(&paper))).bearer_auth(committee).send().await.unwrap();
    assert_eq!(scan.headers()["content-type"], "image/jpeg");
    assert_eq!(scan.bytes().await.unwrap().as_ref(), SCAN);
    let (status, body) = app.upload(&format!("/votes/{vote_id}/paper-ballots?elector_id={developer}&choice=agree"), committee, SCAN.to_vec()).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // Every ballot stays on record; the last of each elector counts.
    let (_, all) = app.get(&ballots, committee).await;
    assert_eq!(all.as_array().unwrap().len(), 5);
    assert_eq!(all.as_array().unwrap().iter().filter(|b| b["counted"] == true).count(), 2);
    let closed = close_vote(&app, owner, vote_id).await;
    // 72.35 of 160.95 m² agree (less than half) and 1 of 2 owners: it fails on both.
    assert_eq!((closed["passed"].as_bool(), closed["result"]["agree"]["area"].as_str()), (Some(false), Some("72.35")), "{closed}");
    let (status, body) = app.post(&ballots, owner, json!({ "choice": "agree" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn rule_sets_are_data_in_force_from_a_date_and_local_rules_decide_stairwells() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("Rule Sets").await;
    let manager = tenant.token(Role::Manager);
    let (status, rule_sets) = app.get("/vote-rule-sets", tenant.token(Role::Owner)).await;
    assert_eq!(status, StatusCode::OK, "{rule_sets}");
    let codes: Vec<(&str, &str, Option<&str>)> =
        rule_sets.as_array().unwrap().iter().map(|r| (r["code"].as_str().unwrap(), r["effective_from"].as_str().unwrap(), r["effective_to"].as_str())).collect();
    assert_eq!(
        codes,
        [
            ("property_law_2007", "2007-10-01", Some("2020-12-31")),
            ("elevator_two_thirds_no_objection", "2017-01-01", None),
            ("civil_code_2021", "2021-01-01", None),
            ("elevator_double_three_quarters", "2021-01-01", None),
        ]
    );
    let closes_at = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let votes = format!("/compounds/{}/votes", tenant.compound_id);
    let refused = [
        (json!({ "title": "旧法", "matter": "rules", "rule_set": "property_law_2007", "closes_at": closes_at }), "rule_set"),
        (json!({ "title": "无此规则", "matter": "rules", "rule_set": "beijing_1999", "closes_at": closes_at }), "rule_set"),
        (json!({ "title": "倒序", "matter": "rules", "closes_at": "2020-01-01T00:00:00Z" }), "closes_at"),
        (json!({ "title": "过去", "matter": "rules", "opens_at": "2025-01-01T00:00:00Z", "closes_at": closes_at }), "opens_at"),
        (json!({ "title": "无范围", "matter": "rules", "scope": "stairwells", "scope_ids": [], "closes_at": closes_at }), "scope_ids"),
        (json!({ "title": " ", "matter": "rules", "closes_at": closes_at }), "title"),
        (json!({ "title": "借电梯规则", "matter": "using_the_fund", "rule_set": "elevator_double_three_quarters", "closes_at": closes_at }), "rule_set"),
    ];
    for (body, field) in refused {
        let (status, problem) = app.post(&votes, manager, body.clone()).await;
        assert_problem(status, &problem, StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }

    // "2/3 agree and no objection" over a stairwell of six: five agree, one objects, it fails.
    let flats: Vec<Flat> = (1..=6).map(|n| owned_flat(n, n as i32, "80")).collect();
    let compound = compound_of(&app, &tenant, "加装电梯小区", &flats).await;
    let vote = open_vote(&app, manager, compound, json!({ "title": "加装电梯", "matter": "alteration_or_rebuilding", "rule_set": "elevator_two_thirds_no_objection" })).await;
    let electors = electors(&app, manager, id_of(&vote)).await;
    for n in 1..=6 {
        paper_ballot(&app, manager, id_of(&vote), electors[&format!("业主{n}")]["id"].as_i64().unwrap(), if n == 6 { "disagree" } else { "agree" }).await;
    }
    let closed = close_vote(&app, manager, id_of(&vote)).await;
    assert_eq!(closed["passed"], false);
    assert_eq!(closed["result"]["reasons"], json!(["no owner votes against: 1 owner voted against"]));
}

#[tokio::test]
async fn the_votes_job_opens_and_closes_votes_nobody_reads() {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let app = TestApp::spawn_with(&workers_on(&[])).await;
    let tenant = app.tenant("Vote Job").await;
    let manager = tenant.token(Role::Manager);
    let soon = chrono::Utc::now() + chrono::Duration::minutes(10);
    let (status, vote) = app
        .post(
            &format!("/compounds/{}/votes", tenant.compound_id),
            manager,
            json!({ "title": "下周表决", "matter": "other", "opens_at": soon.to_rfc3339(), "closes_at": (soon + chrono::Duration::days(7)).to_rfc3339() }),
        )
        .await;
    assert_eq!((status, vote["status"].as_str()), (StatusCode::OK, Some("scheduled")), "{vote}");
    let vote_id = id_of(&vote);
    let (status, body) = app.post(&format!("/votes/{vote_id}/ballots"), tenant.token(Role::Owner), json!({ "choice": "agree" })).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "conflict");
    assert!(body["message"].as_str().unwrap().contains("opens at"), "{body}");

    // Its whole time passes; only the job looks at it.
    entity::vote::ActiveModel {
        id: Set(vote_id),
        opens_at: Set(chrono::Utc::now() - chrono::Duration::days(8)),
        closes_at: Set(chrono::Utc::now() - chrono::Duration::days(1)),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();
    let runs = run_job(&app, manager, "votes").await;
    assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
    assert_eq!((runs[0]["counts"]["opened"].as_i64(), runs[0]["counts"]["closed"].as_i64()), (Some(1), Some(1)), "{runs:?}");
    let stored = entity::vote::Entity::find_by_id(vote_id).one(&app.db).await.unwrap().unwrap();
    assert_eq!((stored.status.as_str(), stored.passed), ("closed", Some(false)));
    assert!(stored.result_notice_id.is_some());
    let again = run_job(&app, manager, "votes").await;
    assert_eq!((again[0]["counts"]["opened"].as_i64(), again[0]["counts"]["closed"].as_i64()), (Some(0), Some(0)), "{again:?}");
}
