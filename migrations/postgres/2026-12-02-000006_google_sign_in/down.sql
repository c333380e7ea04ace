DROP TABLE google_sign_ins;
DROP TABLE identities;
