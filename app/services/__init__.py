"""The one service layer every channel, page, API and job calls. No Flask, no SQL, no SDK."""
