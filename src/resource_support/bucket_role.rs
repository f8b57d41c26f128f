//! What a bucket of the stack is for: the site or the images.

use crate::reconcile::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketRole {
    Site,
    Images,
}

impl BucketRole {
    pub fn tag_value(self) -> &'static str {
        match self {
            BucketRole::Site => "site",
            BucketRole::Images => "images",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            BucketRole::Site => Kind::SiteBucket,
            BucketRole::Images => Kind::ImagesBucket,
        }
    }

    pub(crate) fn flag(self) -> &'static str {
        match self {
            BucketRole::Site => "--site-bucket",
            BucketRole::Images => "--images-bucket",
        }
    }
}
