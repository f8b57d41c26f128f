//! Drift made by hand, as someone in the console would: each a method of `World`, shared by
//! the tests that check status reports it, plan lists it and deploy repairs it.

use crate::common::World;

impl World {
    pub async fn remove_images_cors(&self) {
        self.s3()
            .await
            .delete_bucket_cors()
            .bucket(self.images_bucket())
            .send()
            .await
            .unwrap();
    }

    /// Memory or timeout changed in the console.
    pub async fn resize_function(&self, memory_mb: Option<i32>, timeout_s: Option<i32>) {
        self.lambda()
            .await
            .update_function_configuration()
            .function_name(self.function())
            .set_memory_size(memory_mb)
            .set_timeout(timeout_s)
            .send()
            .await
            .unwrap();
    }

    /// The function deleted (its Function URL goes with it).
    pub async fn delete_function(&self) {
        self.lambda()
            .await
            .delete_function()
            .function_name(self.function())
            .send()
            .await
            .unwrap();
    }

    pub async fn remove_url_permission(&self, sid: &str) {
        self.lambda()
            .await
            .remove_permission()
            .function_name(self.function())
            .statement_id(sid)
            .send()
            .await
            .unwrap();
    }
}
