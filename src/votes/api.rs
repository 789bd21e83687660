//! Vote endpoints (tag `votes`): rule sets, votes, the electorate, ballots online and on paper,
//! and the tally.
use chrono::{DateTime, NaiveDate, Utc};
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use sea_orm::EntityTrait;

use super::{
    NewVote, Status,
    rules::{Choice, Count, Matter, Outcome},
};
use crate::{
    AppState,
    auth::{Actor, Permission, api::BearerAuth},
    error::{ApiError, Error},
    http::{Area as Tag, ImageFile, ImageUpload, JsonBody},
    types::format_hundredths,
};
use entity::{ballot, vote, vote_rule_set};

pub struct VotesApi(pub AppState);

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Object)]
pub struct RuleSetView {
    pub code: String,
    pub name: String,
    /// national, or local (a city's rule for elevator retrofits)
    pub region: String,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    /// The share of area and of owners that must take part; none when there is no quorum.
    pub quorum: Option<String>,
    /// participating | all: what approval is counted against.
    pub approval_base: String,
    /// For raising the fund, alteration or rebuilding, changing common parts.
    pub special_majority: String,
    pub special_inclusive: bool,
    pub ordinary_majority: String,
    pub ordinary_inclusive: bool,
    pub no_objection: bool,
    /// The matters that need the special majority.
    pub special_matters: Vec<String>,
    /// The matters it may decide; none listed: every matter.
    pub matters: Option<Vec<String>>,
    pub summary: String,
}

impl From<vote_rule_set::Model> for RuleSetView {
    fn from(r: vote_rule_set::Model) -> Self {
        RuleSetView {
            code: r.code,
            name: r.name,
            region: r.region,
            effective_from: r.effective_from,
            effective_to: r.effective_to,
            quorum: r.quorum,
            approval_base: r.approval_base,
            special_majority: r.special_majority,
            special_inclusive: r.special_inclusive,
            ordinary_majority: r.ordinary_majority,
            ordinary_inclusive: r.ordinary_inclusive,
            no_objection: r.no_objection,
            special_matters: serde_json::from_str(&r.special_matters).unwrap_or_default(),
            matters: r.matters.as_deref().and_then(|m| serde_json::from_str(m).ok()),
            summary: r.summary,
        }
    }
}

#[derive(Object)]
pub struct CountView {
    /// m², two decimals.
    pub area: String,
    pub headcount: i64,
}

impl From<Count> for CountView {
    fn from(c: Count) -> Self {
        CountView { area: format_hundredths(c.area), headcount: c.headcount }
    }
}

#[derive(Object)]
pub struct CheckView {
    /// quorum_area | quorum_headcount | approval_area | approval_headcount | no_objection
    pub name: String,
    pub rule: String,
    /// m² for area checks, owners for headcount checks.
    pub got: String,
    pub needed: String,
    pub met: bool,
}

#[derive(Object)]
pub struct TallyView {
    /// True once the vote has closed: the result as decided, never recomputed.
    pub r#final: bool,
    pub electorate: CountView,
    pub participating: CountView,
    pub agree: CountView,
    pub disagree: CountView,
    pub abstain: CountView,
    pub checks: Vec<CheckView>,
    pub passed: bool,
    /// Which thresholds failed, and by how much.
    pub reasons: Vec<String>,
}

fn tally_view(outcome: Outcome, is_final: bool) -> TallyView {
    let shown = |name: &str, value: i64| if name.ends_with("area") { format_hundredths(value) } else { value.to_string() };
    TallyView {
        r#final: is_final,
        electorate: outcome.counts.electorate.into(),
        participating: outcome.counts.participating().into(),
        agree: outcome.counts.agree.into(),
        disagree: outcome.counts.disagree.into(),
        abstain: outcome.counts.abstain.into(),
        checks: outcome.checks.into_iter().map(|c| CheckView { got: shown(&c.name, c.got), needed: shown(&c.name, c.needed), name: c.name, rule: c.rule, met: c.met }).collect(),
        passed: outcome.passed,
        reasons: outcome.reasons,
    }
}

#[derive(Object)]
pub struct BallotView {
    pub id: i64,
    pub vote_id: i64,
    pub elector_id: i64,
    pub choice: String,
    /// online (cast by the owner) | paper (recorded by staff from a signed ballot)
    pub channel: String,
    pub cast_by: i64,
    pub cast_at: DateTime<Utc>,
    /// The elector's last ballot, the one that counts.
    pub counted: bool,
    /// Paper ballots: the scan, at `GET /ballots/{id}/scan`.
    pub has_scan: bool,
}

fn ballot_views(ballots: Vec<ballot::Model>) -> Vec<BallotView> {
    let last: std::collections::HashMap<i64, i64> = ballots.iter().map(|b| (b.elector_id, b.id)).collect();
    ballots
        .into_iter()
        .map(|b| BallotView {
            counted: last.get(&b.elector_id) == Some(&b.id),
            has_scan: b.scan_content_type.is_some(),
            id: b.id,
            vote_id: b.vote_id,
            elector_id: b.elector_id,
            choice: b.choice,
            channel: b.channel,
            cast_by: b.cast_by,
            cast_at: b.cast_at,
        })
        .collect()
}

#[derive(Object)]
pub struct MyElectorView {
    pub elector_id: i64,
    /// All the area you vote with, m².
    pub area: String,
    /// Your ballots, oldest first; the last one counts.
    pub ballots: Vec<BallotView>,
}

#[derive(Object)]
pub struct VoteView {
    pub id: i64,
    pub compound_id: i64,
    pub title: String,
    pub description: String,
    pub matter: Matter,
    /// Needs the rule set's special majority (under the Civil Code: raising the fund, alteration
    /// or rebuilding, changing common parts).
    pub special_majority: bool,
    pub scope: String,
    pub scope_ids: Vec<i64>,
    pub rule_set: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// scheduled | open | closed
    pub status: String,
    pub opened_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Fixed at opening: the scope's area (m²) and headcount.
    pub total_area: Option<String>,
    pub total_headcount: Option<i64>,
    pub passed: Option<bool>,
    /// The result as decided at closing.
    pub result: Option<TallyView>,
    pub result_notice_id: Option<i64>,
    /// An owner's own place in the electorate.
    pub my_elector: Option<MyElectorView>,
}

async fn vote_view(db: &sea_orm::DatabaseConnection, actor: &Actor, v: vote::Model) -> Result<VoteView, Error> {
    let matter = Matter::parse(&v.matter).ok_or_else(|| anyhow::anyhow!("vote {} has matter {:?}", v.id, v.matter))?;
    let rule_set = vote_rule_set::Entity::find_by_id(v.rule_set.clone()).one(db).await?.ok_or_else(|| anyhow::anyhow!("rule set {} missing", v.rule_set))?;
    let special_majority = super::parsed_rules(&rule_set)?.is_special(matter);
    let result = if v.status == Status::Closed.as_str() { Some(tally_view(super::outcome(db, &v).await?, true)) } else { None };
    let my_elector = match super::my_electors(db, actor, v.id).await?.into_iter().next() {
        Some(elector) => {
            let mine = super::ballots(db, v.id).await?.into_iter().filter(|b| b.elector_id == elector.id).collect();
            Some(MyElectorView { elector_id: elector.id, area: format_hundredths(elector.area), ballots: ballot_views(mine) })
        }
        None => None,
    };
    Ok(VoteView {
        id: v.id,
        compound_id: v.compound_id,
        title: v.title,
        description: v.description,
        special_majority,
        matter,
        scope: v.scope_kind,
        scope_ids: serde_json::from_str(&v.scope_ids).unwrap_or_default(),
        rule_set: v.rule_set,
        opens_at: v.opens_at,
        closes_at: v.closes_at,
        status: v.status,
        opened_at: v.opened_at,
        closed_at: v.closed_at,
        total_area: v.total_area.map(format_hundredths),
        total_headcount: v.total_headcount,
        passed: v.passed,
        result,
        result_notice_id: v.result_notice_id,
        my_elector,
    })
}

#[derive(Object, serde::Deserialize)]
pub struct NewBallot {
    pub choice: Choice,
}

#[derive(Object)]
pub struct ElectorView {
    pub id: i64,
    pub owner_id: Option<i64>,
    /// All developer-held units vote as this one elector.
    pub developer: bool,
    pub name: String,
    /// m²
    pub area: String,
    pub unit_ids: Vec<i64>,
}

#[derive(Object)]
pub struct ElectorateView {
    pub vote_id: i64,
    pub total_area: String,
    pub total_headcount: i64,
    pub electors: Vec<ElectorView>,
    /// Units in scope that no one can vote for (no owner on record, or co-owners who named no
    /// voter); they count against the thresholds all the same.
    pub units_without_voter: Vec<i64>,
}

#[OpenApi(tag = "Tag::Votes")]
impl VotesApi {
    /// The rule sets votes are decided by, with their effective dates.
    #[oai(path = "/vote-rule-sets", method = "get")]
    async fn rule_sets(&self, _auth: BearerAuth) -> Reply<Vec<RuleSetView>> {
        Ok(Json(super::rule_sets(&self.0.db).await?.into_iter().map(RuleSetView::from).collect()))
    }

    /// Create a vote (staff, or the compound's committee). The electorate is fixed when it opens.
    #[oai(path = "/compounds/:id/votes", method = "post")]
    async fn create(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NewVote>) -> Reply<VoteView> {
        let vote = super::create(&self.0.db, &auth.0, id.0, body.0).await?;
        Ok(Json(vote_view(&self.0.db, &auth.0, vote).await?))
    }

    #[oai(path = "/compounds/:id/votes", method = "get")]
    async fn list(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<VoteView>> {
        let mut views = Vec::new();
        for vote in super::list(&self.0.db, &auth.0, id.0).await? {
            views.push(vote_view(&self.0.db, &auth.0, vote).await?);
        }
        Ok(Json(views))
    }

    /// The votes an owner stands in the electorate of.
    #[oai(path = "/me/votes", method = "get")]
    async fn my_votes(&self, auth: BearerAuth) -> Reply<Vec<VoteView>> {
        let mut views = Vec::new();
        for vote in super::my_votes(&self.0.db, &auth.0).await? {
            views.push(vote_view(&self.0.db, &auth.0, vote).await?);
        }
        Ok(Json(views))
    }

    /// A vote; once closed, with its result. An owner also sees their own ballots.
    #[oai(path = "/votes/:id", method = "get")]
    async fn get(&self, auth: BearerAuth, id: Path<i64>) -> Reply<VoteView> {
        let vote = super::visible_vote(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(vote_view(&self.0.db, &auth.0, vote).await?))
    }

    /// An owner casts their ballot, or changes it until the close (the last one counts).
    #[oai(path = "/votes/:id/ballots", method = "post")]
    async fn cast(&self, auth: BearerAuth, id: Path<i64>, body: JsonBody<NewBallot>) -> Reply<BallotView> {
        let ballot = super::cast(&self.0.db, &auth.0, id.0, body.0.choice).await?;
        Ok(Json(ballot_views(vec![ballot]).remove(0)))
    }

    /// Staff record a signed paper ballot for an elector; the body is its scan (JPEG, PNG or
    /// WebP, at most 5 MB). It is marked as paper, with who recorded it.
    #[oai(path = "/votes/:id/paper-ballots", method = "post")]
    async fn paper_ballot(&self, auth: BearerAuth, id: Path<i64>, elector_id: Query<i64>, choice: Query<Choice>, body: ImageUpload) -> Reply<BallotView> {
        let ballot = super::record_paper_ballot(&self.0.db, &auth.0, id.0, elector_id.0, choice.0, body.into_bytes()).await?;
        Ok(Json(ballot_views(vec![ballot]).remove(0)))
    }

    /// Every ballot, superseded ones included, marked with the one that counts.
    #[oai(path = "/votes/:id/ballots", method = "get")]
    async fn ballots(&self, auth: BearerAuth, id: Path<i64>) -> Reply<Vec<BallotView>> {
        auth.0.require(Permission::ReadVotes)?;
        let vote = super::visible_vote(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(ballot_views(super::ballots(&self.0.db, vote.id).await?)))
    }

    /// The electorate as fixed when the vote opened.
    #[oai(path = "/votes/:id/electorate", method = "get")]
    async fn electorate(&self, auth: BearerAuth, id: Path<i64>) -> Reply<ElectorateView> {
        let (vote, electors, units) = super::electorate(&self.0.db, &auth.0, id.0).await?;
        Ok(Json(ElectorateView {
            vote_id: vote.id,
            total_area: format_hundredths(vote.total_area.unwrap_or(0)),
            total_headcount: vote.total_headcount.unwrap_or(0),
            electors: electors
                .into_iter()
                .map(|e| ElectorView {
                    unit_ids: units.iter().filter(|u| u.elector_id == Some(e.id)).map(|u| u.unit_id).collect(),
                    id: e.id,
                    owner_id: e.owner_id,
                    developer: e.developer,
                    name: e.name,
                    area: format_hundredths(e.area),
                })
                .collect(),
            units_without_voter: units.iter().filter(|u| u.elector_id.is_none()).map(|u| u.unit_id).collect(),
        }))
    }

    /// The tally against the rule set's thresholds: running while open, final once closed.
    #[oai(path = "/votes/:id/tally", method = "get")]
    async fn tally(&self, auth: BearerAuth, id: Path<i64>) -> Reply<TallyView> {
        auth.0.require(Permission::ReadVotes)?;
        let vote = super::visible_vote(&self.0.db, &auth.0, id.0).await?;
        let is_final = vote.status == Status::Closed.as_str();
        Ok(Json(tally_view(super::outcome(&self.0.db, &vote).await?, is_final)))
    }

    /// The scan of a paper ballot.
    #[oai(path = "/ballots/:id/scan", method = "get")]
    async fn scan(&self, auth: BearerAuth, id: Path<i64>) -> Result<ImageFile, ApiError> {
        let (ballot, bytes) = super::ballot_scan(&self.0.db, &auth.0, id.0).await?;
        Ok(ImageFile::new(ballot.scan_content_type.as_deref().unwrap_or("image/jpeg"), bytes))
    }
}
