DROP TABLE post_attempts;
DROP TABLE post_targets;
DROP TABLE posts;
