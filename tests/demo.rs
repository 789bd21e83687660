//! The demo `cargo run -- demo` serves: seeded once, every login works, and each area has
//! something to show.
mod common;

use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn the_demo_seeds_once_and_shows_every_area() {
    let app = TestApp::spawn().await;
    let config = test_config(&app.database_url, &[]);
    let logins = wuye::demo::seed(&app.db, &config).await.expect("seed the demo");
    // A second start finds the demo in place and changes nothing.
    let again = wuye::demo::seed(&app.db, &config).await.expect("seed again");
    assert_eq!(logins, again);

    for (role, login) in &logins {
        let (status, body) = app.login(login, wuye::demo::PASSWORD).await;
        assert_eq!((status, body["me"]["role"].as_str()), (StatusCode::OK, Some(*role)), "{login}: {body}");
        // Named as people are, in Chinese: the consoles show these names (the board, a ticket's history).
        let name = body["me"]["name"].as_str().unwrap_or_default();
        assert!(!name.is_empty() && !name.chars().any(|c| c.is_ascii()), "{login} is called {name:?}");
    }
    let token = |login: &str| {
        let app = &app;
        let login = login.to_string();
        async move {
            let (_, body) = app.login(&login, wuye::demo::PASSWORD).await;
            body["token"].as_str().unwrap().to_string()
        }
    };
    let manager = token("manager@hemu.demo").await;
    let (_, compounds) = app.get("/compounds", &manager).await;
    let names: Vec<&str> = compounds.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["世纪花园", "金盾苑", "旺角家园"]);

    // The owner's flat has three months of property fees.
    let owner = token("owner@wangjiao.demo").await;
    let (_, units) = app.get("/me/units", &owner).await;
    let unit_id = units[0]["id"].as_i64().unwrap();
    let (_, bills) = app.get(&format!("/units/{unit_id}/bills"), &owner).await;
    let periods: Vec<&str> = bills.as_array().unwrap().iter().map(|b| b["period"].as_str().unwrap()).collect();
    assert_eq!(periods.len(), 3, "{bills}");

    // The repair desk: one ticket waiting for triage and one being worked in the queue, one
    // resolved for the owner to confirm.
    let dispatcher = token("dispatcher@hemu.demo").await;
    let (status, queue) = app.get("/tickets", &dispatcher).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let statuses: Vec<&str> = queue["items"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!((statuses.len(), queue["counts"]["resolved"].as_u64()), (2, Some(1)), "{queue}");
    assert!(statuses.contains(&"submitted") && statuses.contains(&"in_progress"), "{queue}");
    let (_, resolved) = app.get("/tickets?status=resolved", &owner).await;
    assert_eq!(resolved["items"][0]["unit_id"], unit_id, "{resolved}");
    let technician = token("tech@hemu.demo").await;
    let (_, work) = app.get("/tickets", &technician).await;
    assert_eq!(work["items"].as_array().unwrap().len(), 1, "the technician's own work: {work}");

    // The maintenance fund: deposits and interest that add up, the roof leak settled from it;
    // the owner sees their sub-ledger and has two votes open: the facade repair and the elevator.
    let committee = token("committee@wangjiao.demo").await;
    let wangjiao = compounds.as_array().unwrap()[2]["id"].as_i64().unwrap();
    let (_, fund) = app.get(&format!("/compounds/{wangjiao}/fund"), &committee).await;
    assert_eq!(fund["check"]["agrees"], true, "{}", fund["check"]);
    assert_eq!(fund["units"].as_array().unwrap().len(), 369);
    let (_, projects) = app.get(&format!("/compounds/{wangjiao}/fund/projects"), &committee).await;
    let statuses: Vec<&str> = projects.as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["voting", "settled"], "{projects}");
    let (status, sub_ledger) = app.get(&format!("/units/{unit_id}/fund"), &owner).await;
    assert_eq!(status, StatusCode::OK, "{sub_ledger}");
    let kinds: Vec<&str> = sub_ledger["movements"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["deposit", "interest", "repair"], "{sub_ledger}");
    let (_, votes) = app.get("/me/votes", &owner).await;
    let matters: Vec<&str> = votes.as_array().unwrap().iter().map(|v| v["matter"].as_str().unwrap()).collect();
    assert_eq!(matters, ["alteration_or_rebuilding", "using_the_fund"], "{votes}");
    assert!(votes.as_array().unwrap().iter().all(|v| v["status"] == "open"), "{votes}");
    // The notice board: pinned first, then newest; the roof repair's prior notice reached the
    // owners of that building.
    let (_, board) = app.get("/me/notices", &owner).await;
    let titles: Vec<&str> = board.as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["物业服务中心电话", "下周二停水通知", "物业服务收费标准公示", "应急维修告知 Emergency repair: 顶楼楼梯间屋面防水抢修"], "{board}");
}
