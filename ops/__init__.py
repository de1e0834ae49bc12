"""The operator's tools: `aftersale topics|tail|timeline|publish|dlq|cases|case`."""
