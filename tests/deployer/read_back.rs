//! What the stack looks like, read back through the SDK: each a method of `World`.

use crate::common::World;

impl World {
    /// A proxy in front of moto that reports the function's LastModified as AWS does after an
    /// update catup just made: AWS moves it with every UpdateFunctionConfiguration, moto keeps
    /// the creation time (and catup compares it with its role's creation).
    pub async fn reporting_last_modified_now(&self) -> catup_testkit::proxy::FaultProxy {
        use catup_testkit::proxy::{Answer, FaultProxy, On, Policy, Scripted};
        let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .unwrap();
        let path = format!("/2015-03-31/functions/{}", self.function());
        let patched = Answer::Patched(vec![("/Configuration/LastModified", now.into())]);
        let script = vec![Scripted::new(On::lambda("GET", &path), usize::MAX, patched)];
        FaultProxy::start(&self.moto.endpoint(), Policy::Script(script)).await
    }

    /// Whether this stack's function exists.
    pub async fn function_exists(&self) -> bool {
        let lambda = self.lambda().await;
        lambda
            .get_function()
            .function_name(self.function())
            .send()
            .await
            .is_ok()
    }

    pub async fn function_configuration(
        &self,
    ) -> aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput {
        let lambda = self.lambda().await;
        let request = lambda
            .get_function_configuration()
            .function_name(self.function());
        request
            .send()
            .await
            .expect("read the function's configuration")
    }

    /// This stack's Function URL configuration; it must exist.
    pub async fn function_url_config(
        &self,
    ) -> aws_sdk_lambda::operation::get_function_url_config::GetFunctionUrlConfigOutput {
        let lambda = self.lambda().await;
        let request = lambda
            .get_function_url_config()
            .function_name(self.function());
        request.send().await.expect("read the Function URL")
    }

    /// The function's resource policy, as Lambda returns it; it must exist.
    pub async fn function_policy(&self) -> String {
        let lambda = self.lambda().await;
        let out = lambda.get_policy().function_name(self.function()).send();
        out.await
            .expect("read the function's policy")
            .policy
            .expect("a policy")
    }

    /// This stack's own role (not one given with --role-arn); it must exist.
    pub async fn role_read_back(&self) -> aws_sdk_iam::types::Role {
        let iam = self.iam().await;
        let out = iam.get_role().role_name(self.role()).send().await;
        out.expect("read the role").role.expect("the role")
    }

    /// The allowed origins of the images bucket's first CORS rule.
    pub async fn images_cors_origins(&self) -> Vec<String> {
        let cors = self
            .s3()
            .await
            .get_bucket_cors()
            .bucket(self.images_bucket())
            .send()
            .await
            .expect("read the images bucket's CORS");
        cors.cors_rules()[0].allowed_origins().to_vec()
    }
}
