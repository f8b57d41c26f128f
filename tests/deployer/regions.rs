//! Regions launched after this build: accepted when they match AWS's region pattern, with the
//! website endpoint form every region since 2014 has (`s3-website.<region>`).

use crate::common::{assert_all, World};

#[tokio::test]
async fn a_region_newer_than_this_build_is_deployed_with_the_dot_form_website_origin() {
    let region = "eu-south-7";
    let w = World::in_region(region);
    let report = w.deploy();
    assert_all(&report, "created");
    let origin = format!(
        "http://{}.s3-website.{region}.amazonaws.com",
        w.site_bucket()
    );
    assert_eq!(report["website_url"], format!("{origin}/"));
    assert_eq!(w.images_cors_origins().await, [origin]);
    assert_all(&w.catup(&["status", "--json"]).ok().json(), "ok");
}
