# The Cat Upload stack written for Terraform and its AWS provider: the yardstick that
# scripts/bench-deploy times against catup, both on the same local emulator in the same run.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

variable "endpoint" { default = "http://127.0.0.1:5055" }
variable "stack" { default = "tfanchor" }
variable "zip" { default = "fn.zip" }

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {
    s3     = var.endpoint
    iam    = var.endpoint
    lambda = var.endpoint
    sts    = var.endpoint
    logs   = var.endpoint
  }
}

resource "aws_s3_bucket" "site" { bucket = "${var.stack}-site" }
resource "aws_s3_bucket_public_access_block" "site" {
  bucket                  = aws_s3_bucket.site.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = false
  restrict_public_buckets = false
}
resource "aws_s3_bucket_website_configuration" "site" {
  bucket = aws_s3_bucket.site.id
  index_document { suffix = "index.html" }
  error_document { key = "index.html" }
}
resource "aws_s3_bucket_policy" "site" {
  bucket     = aws_s3_bucket.site.id
  depends_on = [aws_s3_bucket_public_access_block.site]
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Sid = "PublicRead", Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "${aws_s3_bucket.site.arn}/*" }]
  })
}

resource "aws_s3_bucket" "images" { bucket = "${var.stack}-images" }
resource "aws_s3_bucket_public_access_block" "images" {
  bucket                  = aws_s3_bucket.images.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}
resource "aws_s3_bucket_cors_configuration" "images" {
  bucket = aws_s3_bucket.images.id
  cors_rule {
    allowed_methods = ["GET", "PUT"]
    allowed_origins = ["http://${aws_s3_bucket_website_configuration.site.website_endpoint}"]
    allowed_headers = ["content-type"]
    max_age_seconds = 3000
  }
}

resource "aws_iam_role" "fn" {
  name = "${var.stack}-fn"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}
resource "aws_iam_role_policy" "fn" {
  name = "runtime"
  role = aws_iam_role.fn.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "s3:ListBucket", Resource = aws_s3_bucket.images.arn, Condition = { StringLike = { "s3:prefix" = ["images/*"] } } },
      { Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"], Resource = "${aws_s3_bucket.images.arn}/images/*" },
      { Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "${aws_cloudwatch_log_group.fn.arn}:*" }
    ]
  })
}
resource "aws_cloudwatch_log_group" "fn" {
  name              = "/aws/lambda/${var.stack}-api"
  retention_in_days = 14
}
resource "aws_lambda_function" "api" {
  function_name    = "${var.stack}-api"
  role             = aws_iam_role.fn.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["x86_64"]
  filename         = var.zip
  source_code_hash = filebase64sha256(var.zip)
  memory_size      = 128
  timeout          = 10
  environment {
    variables = { IMAGES_BUCKET = aws_s3_bucket.images.id }
  }
  depends_on = [aws_cloudwatch_log_group.fn]
}
resource "aws_lambda_function_url" "api" {
  function_name      = aws_lambda_function.api.function_name
  authorization_type = "NONE"
  cors {
    allow_origins = ["http://${aws_s3_bucket_website_configuration.site.website_endpoint}"]
    allow_methods = ["GET", "POST"]
    allow_headers = ["content-type"]
    max_age       = 300
  }
}
resource "aws_s3_object" "config" {
  bucket        = aws_s3_bucket.site.id
  key           = "config.js"
  content       = "window.CAT_UPLOAD_CONFIG = { apiBaseUrl: \"${aws_lambda_function_url.api.function_url}\" };\n"
  content_type  = "application/javascript"
  cache_control = "no-cache"
}
resource "aws_s3_object" "index" {
  bucket       = aws_s3_bucket.site.id
  key          = "index.html"
  content      = "<html><body>cats</body></html>"
  content_type = "text/html"
}
output "function_url" { value = aws_lambda_function_url.api.function_url }
