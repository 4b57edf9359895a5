DROP TABLE phone_numbers;
DROP TABLE bridges;
