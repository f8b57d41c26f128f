//! The website origin follows AWS's per-region endpoint table; regions launched after this
//! build are accepted when they match AWS's region pattern, with the website endpoint form
//! every region since 2014 has (`s3-website.<region>`).

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

/// The website origin follows AWS's per-region endpoint table, in both CORS configurations.
#[tokio::test]
async fn website_origin_uses_the_region_s_endpoint_style() {
    for (region, separator) in [("eu-central-1", "."), ("us-west-2", "-")] {
        let w = World::in_region(region);
        let report = w.deploy();
        let site = w.site_bucket();
        let origin = format!("http://{site}.s3-website{separator}{region}.amazonaws.com");
        assert_eq!(report["website_url"], format!("{origin}/"));
        assert_eq!(report["region"], region);

        let location = w
            .s3()
            .await
            .get_bucket_location()
            .bucket(w.images_bucket())
            .send()
            .await
            .unwrap();
        assert_eq!(location.location_constraint().unwrap().as_str(), region);
        assert_eq!(w.images_cors_origins().await, [origin.as_str()]);
        let url = w.function_url_config().await;
        assert_eq!(url.cors().unwrap().allow_origins(), [origin.as_str()]);
    }
}
