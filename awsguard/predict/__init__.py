"""Predict, offline, what the real AWS CLI will do: argv rules, paths, the INI reader, the AWS
files, identity facts, the credential providers and the resolver.  Pure and standard library
only: nothing here writes a file or knows about the shim."""
