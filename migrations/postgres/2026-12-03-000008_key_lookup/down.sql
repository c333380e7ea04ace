DROP FUNCTION socializer_key_for_request(TEXT);
