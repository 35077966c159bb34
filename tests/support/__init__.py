"""What the tests share: fake servers, mock APIs, hostile inputs, helpers."""
