"""Judge a prediction: awsguard's settings (environment and policy file), the rules and the
verdict."""
