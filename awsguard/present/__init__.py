"""Show a judgement to a person or a program: the ``explain`` report (text and JSON), the shim's
messages and the prompt segment with its shell protocol."""
