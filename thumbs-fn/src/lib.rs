//! Cat Upload's thumbnail function.
//!
//! On S3 `ObjectCreated` under `images/` it reads the image, makes a thumbnail (longest side
//! 400 px by default, aspect kept, EXIF orientation applied, the first frame of an animation)
//! and writes it under `thumbs/` with the same name and content type. An object that is not
//! the image its name claims, is cut short, or would decode to more than the memory budget
//! gets no thumbnail and one WARN line naming its key; the invocation still ends as handled,
//! so Lambda does not retry what cannot succeed. Objects outside `images/` are ignored: the
//! function's own writes never feed it.

pub mod config;
pub mod event;
pub mod handler;
pub mod jpeg;
pub mod thumbnail;

pub use config::{Config, ConfigError};
pub use event::S3Event;
pub use handler::{App, Outcome};
pub use thumbnail::{make_thumbnail, Refusal, Thumbnail};
