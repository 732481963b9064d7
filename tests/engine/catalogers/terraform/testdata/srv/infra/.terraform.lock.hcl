# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.31.0"
  constraints = "~> 5.0"
  hashes = [
    "h1:ltxyuBWIy9cq0kIKDJH1jeWJy/y7XJLjS4QrsQK4plA=",
    "zh:0cdb9c2083bf0902442384f7309367791e4640581652dda456f2d6d7abf0de8d",
    "zh:2fe4884cb9642f48a5889f8dff8f5f511418a18537a9dfa77ada3bcdad391e4e",
  ]
}

provider "registry.terraform.io/integrations/github" {
  version = "5.42.0"
  hashes = [
    "h1:rfyLEKbHJ2BZhBNmHSCP4WcpLjTOLfB3XG6Ml0wEH1Y=",
  ]
}
