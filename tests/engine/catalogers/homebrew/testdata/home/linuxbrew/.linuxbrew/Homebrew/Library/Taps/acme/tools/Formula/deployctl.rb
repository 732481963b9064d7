class Deployctl < Formula
  desc "Deploys acme services"
  homepage "https://acme.example/deployctl"
  url "https://acme.example/deployctl/archive/v2.3.0.tar.gz"
  version "2.3.0"
  sha256 "0000000000000000000000000000000000000000000000000000000000000001"
  license "Apache-2.0"

  def install
    bin.install "deployctl"
  end
end
